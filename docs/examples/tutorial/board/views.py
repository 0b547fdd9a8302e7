from django.shortcuts import render

from .models import Note


def index(request):
    return render(request, "board/index.html", {"notes": Note.objects.order_by("pk")})
