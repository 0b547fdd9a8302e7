"""Channel rules (docs/reference/rules-and-endpoints.md).

``Room`` and ``Document`` stand for your models: the test passes stand-ins.
"""

from pusher_django import channel


@channel("private-encrypted-room-{room_id}")
def room(user, room_id):
    return Room.objects.filter(pk=room_id, members=user).exists()


@channel("presence-room-{room_id}")
def room_presence(user, room_id):
    if Room.objects.filter(pk=room_id, members=user).exists():
        return {"name": user.get_username()}  # presence user_info
    return None  # deny


@channel("private-beta-{feature}")
def beta(user, feature, request):  # a `request` parameter gets the request
    return request.session.get("beta", False)


@channel("private-lobby", allow_anonymous=True)  # anonymous users are denied unless allowed
def lobby(user):
    return True


@channel("private-doc-{doc_id:int}")  # converters: int (passed as an int), slug, any
def document(user, doc_id):
    return Document.objects.filter(pk=doc_id, owner=user).exists()


# --8<-- [start:many]
@channel("presence-team-{team_id:int}", many=True)
def teams(user, matches):
    mine = set(Room.objects.filter(members=user).values_list("pk", flat=True))
    return [{"name": user.get_username()} if m["team_id"] in mine else False for m in matches]


# --8<-- [end:many]
