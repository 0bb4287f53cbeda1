app_name = "documents_client"
urlpatterns: list = []
