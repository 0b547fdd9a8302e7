"""A signal receiver (docs/how-to/existing-project.md); ``Presence`` is your model."""

from django.dispatch import receiver

from pusher_django.signals import member_added


@receiver(member_added)
def joined(sender, channel, user_id, user_info, source, **kwargs):
    Presence.objects.update_or_create(channel=channel, user_id=user_id)
