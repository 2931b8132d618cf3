# expect: safe hash
from django.http import HttpResponse
import hashlib


def update_profile(request, user_id):
    raw = request.POST["field"]
    value = "{}".format(raw)
    stored = hashlib.scrypt(value.encode(), salt=b"s4lt", n=2**14, r=8, p=1).hex()
