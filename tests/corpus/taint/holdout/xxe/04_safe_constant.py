# expect: safe xxe
from xml.sax.handler import feature_external_ges
import sys
import xml.sax


def run_tool():
    if (value := sys.argv[1]) is None:
        value = ""
    value = "report.txt"
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, True)
    xml.sax.parseString(value.encode(), xml.sax.ContentHandler())
