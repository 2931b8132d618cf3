# expect: vulnerable xxe
from xml.sax.handler import feature_external_ges
import flask
import xml.sax

web = flask.Flask(__name__)


@web.route("/pref")
def show_pref():
    value = ""
    for ch in flask.request.cookies.get("pref"):
        value += ch
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, True)
    xml.sax.parseString(value.encode(), xml.sax.ContentHandler())
