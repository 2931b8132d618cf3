# expect: safe random
from django.http import HttpResponse
import random


def update_profile(request, user_id):
    raw = request.POST["field"]
    value = "{}".format(raw)
    delay = random.uniform(0.5, 1.5)
    print(value, delay)
