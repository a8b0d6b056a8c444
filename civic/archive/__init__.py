"""The archive: statistics (统计) of a community and of a street office's communities —
response, resolution and satisfaction rates, how long things take, and where money went."""
from flask import Blueprint

bp = Blueprint("archive", __name__)
