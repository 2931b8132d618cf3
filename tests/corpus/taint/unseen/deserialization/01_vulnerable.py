# expect: vulnerable deserialization
import base64
import pickle

from django.http import JsonResponse


def restore(request):
    blob = base64.urlsafe_b64decode(request.COOKIES["cart"])
    cart = pickle.loads(blob)
    return JsonResponse({"items": len(cart)})
