# expect: safe sql
from django.db import connection
from django.http import JsonResponse

ORDERS = {"id": "id", "date": "created_at"}


def report(request):
    order = ORDERS.get(request.GET.get("order"), "id")
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT * FROM sales ORDER BY {order}")
        rows = cursor.fetchall()
    return JsonResponse({"rows": rows})
