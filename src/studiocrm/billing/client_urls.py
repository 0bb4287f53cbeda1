app_name = "billing_client"
urlpatterns: list = []
