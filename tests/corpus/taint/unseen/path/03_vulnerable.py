# expect: vulnerable path
import os
import shutil

from django.http import HttpResponse


def remove_report(request, report_id):
    folder = os.path.join("/var/reports", request.GET["owner"])
    shutil.rmtree(folder)
    return HttpResponse(status=204)
