# expect: safe path
import os
import shutil

from django.http import HttpResponse


def remove_report(request, report_id):
    owner = os.path.basename(request.GET["owner"])
    shutil.rmtree(os.path.join("/var/reports", owner))
    return HttpResponse(status=204)
