# expect: vulnerable hash
from django.http import HttpResponse
import hashlib


def update_profile(request, user_id):
    raw = request.POST["field"]
    value = "{}".format(raw)
    h = hashlib.new("md5")
    h.update(value.encode())
    stored = h.hexdigest()
