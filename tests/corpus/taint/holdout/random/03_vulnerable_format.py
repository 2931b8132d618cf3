# expect: vulnerable random
from django.http import HttpResponse
from random import randrange


def update_profile(request, user_id):
    raw = request.POST["field"]
    value = "{}".format(raw)
    otp = str(randrange(10**6)).zfill(6)
    print(value, otp)
