from django.urls import path

from studiocrm.estimates import views

app_name = "estimates"
urlpatterns = [
    path("deal/<int:deal_pk>/new/", views.new_estimate, name="new"),
    path("deal/<int:deal_pk>/draft/", views.draft_estimate, name="draft"),
    path("deal/<int:deal_pk>/copy/", views.copy_estimate, name="copy"),
    path("<int:pk>/", views.edit, name="edit"),
    path("<int:pk>/totals/", views.totals, name="totals"),
    path("<int:pk>/lines/", views.lines, name="lines"),
    path("<int:pk>/settings/", views.update_settings, name="settings"),
    path("<int:pk>/save/", views.save, name="save"),
    path("<int:pk>/delete/", views.delete, name="delete"),
    path("<int:pk>/options/add/", views.add_option, name="add_option"),
    path("options/<int:pk>/", views.update_option, name="update_option"),
    path("options/<int:pk>/delete/", views.delete_option, name="delete_option"),
    path("options/<int:pk>/primary/", views.make_primary, name="make_primary"),
    path("options/<int:pk>/package/", views.apply_package, name="apply_package"),
    path("options/<int:pk>/save-package/", views.save_as_package, name="save_as_package"),
    path("options/<int:pk>/pages/", views.add_page, name="add_page"),
    path("options/<int:pk>/services/", views.add_service, name="add_service"),
    path("options/<int:pk>/custom/", views.add_custom_line, name="add_custom_line"),
    path("options/<int:pk>/multipliers/", views.add_multiplier, name="add_multiplier"),
    path(
        "options/<int:pk>/multipliers/<int:index>/delete/",
        views.remove_multiplier,
        name="remove_multiplier",
    ),
    path("lines/<int:pk>/", views.update_line, name="update_line"),
    path("lines/<int:pk>/details/", views.line_details, name="line_details"),
    path("lines/<int:pk>/delete/", views.delete_line, name="delete_line"),
    path("price-lists/", views.price_lists, name="price_lists"),
    path("price-lists/<int:pk>/", views.price_list, name="price_list"),
    path(
        "price-lists/<int:pk>/duplicate/", views.duplicate_price_list, name="duplicate_price_list"
    ),
    path("price-lists/<int:pk>/<slug:kind>/new/", views.price_item, name="price_item_new"),
    path("price-lists/<int:pk>/<slug:kind>/<int:item_pk>/", views.price_item, name="price_item"),
    path(
        "price-lists/<int:pk>/<slug:kind>/<int:item_pk>/delete/",
        views.delete_price_item,
        name="price_item_delete",
    ),
    path("rules/", views.rules, name="rules"),
    path("rules/new/", views.rule_edit, name="rule_new"),
    path("rules/<int:pk>/", views.rule_edit, name="rule_edit"),
    path("rules/<int:pk>/delete/", views.rule_delete, name="rule_delete"),
]
