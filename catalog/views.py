from django.views.generic import TemplateView

from catalog.selectors import featured_items, top_categories


class HomeView(TemplateView):
    template_name = "catalog/home.html"

    def get_context_data(self, **kwargs):
        return super().get_context_data(featured=featured_items(), categories=top_categories(), **kwargs)
