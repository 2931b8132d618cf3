# expect: safe random
from django.http import HttpResponse
import random


def tidy(text):
    cleaned = text.strip()
    return cleaned


def view(request):
    value = tidy(request.GET.get("q", ""))
    COLORS = ["red", "green"]
    color = random.choice(COLORS)
    print(value, color)
