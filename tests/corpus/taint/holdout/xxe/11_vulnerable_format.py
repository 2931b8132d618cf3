# expect: vulnerable xxe
from django.http import HttpResponse
from xml.sax.handler import feature_external_ges
import xml.sax


def update_profile(request, user_id):
    raw = request.POST["field"]
    value = "{}".format(raw)
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, True)
    xml.sax.parseString(value.encode(), xml.sax.ContentHandler())
