from tests.grids.test_finding_workflow import *  # noqa

def test_debug(finding, grid_worker, staff, deliveries, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        follow_up_finding(finding=finding, note="已更换金属软管", close=True, by=staff)
    print("CALLBACKS", callbacks, list(Notification.objects.values()))
    for c in callbacks:
        print(getattr(c, "func", c), getattr(c, "args", None))
