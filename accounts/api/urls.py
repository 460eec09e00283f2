from accounts.api import views
from shop.api import optional_slash

urlpatterns = [
    *optional_slash("auth/signup", views.SignupApi, "api-auth-signup"),
    *optional_slash("auth/login", views.LoginApi, "api-auth-login"),
    *optional_slash("auth/refresh", views.RefreshApi, "api-auth-refresh"),
    *optional_slash("auth/logout", views.LogoutApi, "api-auth-logout"),
    *optional_slash("users", views.UserListApi, "api-users"),
    *optional_slash("users/me/export", views.MyPersonalDataApi, "api-user-me-export"),
    *optional_slash("users/<pk:user_id>", views.UserDetailApi, "api-user"),
    *optional_slash("users/<pk:user_id>/export", views.UserPersonalDataApi, "api-user-export"),
]
