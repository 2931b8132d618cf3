# expect: safe deserialization
from django.http import HttpResponse
import yaml


class Holder:
    def unwrap(self, item):
        return item


def update_profile(request, user_id):
    value = Holder().unwrap(request.POST["field"])
    data = yaml.load(value, Loader=yaml.SafeLoader)
