# expect: vulnerable random
from django.http import HttpResponse
import random
import string


def tidy(text):
    cleaned = text.strip()
    return cleaned


def view(request):
    value = tidy(request.GET.get("q", ""))
    token = "".join(random.choice(string.ascii_letters) for _ in range(32))
    print(value, token)
