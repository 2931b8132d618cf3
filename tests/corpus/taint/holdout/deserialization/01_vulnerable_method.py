# expect: vulnerable deserialization
from django.http import HttpResponse
import pickle


class Holder:
    def unwrap(self, item):
        return item


def update_profile(request, user_id):
    value = Holder().unwrap(request.POST["field"])
    state = pickle.loads(value.encode('latin-1'))
