"""Rule verdicts (docs/security.md)."""

from pusher_django import channel


@channel("private-report-{report_id:int}")
def report(user, report_id):
    return user.has_perm("reports.view_report")  # True or False


@channel("presence-team-{team}")
def team(user, team):
    if user.groups.filter(name=team).exists():
        return {"name": user.get_username()}  # allowed, with user_info
    return None  # denied


@channel("private-flag-{name}")
def flag(user, name):
    return "yes"  # not a verdict: denied, with a warning
