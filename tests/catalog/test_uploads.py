"""Finding 8 of the probe (issue 14): an upload's extension was not checked against its image format (a GIF named
x.pdf was stored and served as application/pdf) and 81-megapixel images were accepted. One validator on the model
field (`shop.validators`) now checks every way a file reaches it; the file is stored under its real format's
extension."""

import mimetypes
from io import BytesIO

import pytest
from django.core.exceptions import ValidationError
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from PIL import Image

from shop.validators import validate_image_upload
from tests.catalog.test_admin import item_post
from tests.factories import ItemFactory, SellerFactory

pytestmark = pytest.mark.django_db


def upload(name: str, fmt: str, size: tuple[int, int] = (4, 4), mode: str = "RGB") -> SimpleUploadedFile:
    buffer = BytesIO()
    Image.new(mode, size).save(buffer, format=fmt)
    return SimpleUploadedFile(name, buffer.getvalue())


@pytest.fixture
def seller_item(client):
    seller = SellerFactory()
    client.force_login(seller)
    return ItemFactory(seller=seller, title="My Pan", stock=3)


def post_image(client, item, image):
    return client.post(reverse("admin:catalog_item_change", args=[item.pk]), item_post(item, image=image))


def stored(prefix: str) -> list[str]:
    """Stored item images whose name starts with `prefix` (the tests' storage is in memory, shared by the run)."""
    _dirs, files = default_storage.listdir("items") if default_storage.exists("items") else ([], [])
    return sorted(name for name in files if name.startswith(prefix))


def test_a_gif_named_pdf_is_refused_in_the_admin_and_nothing_is_stored(client, seller_item):
    response = post_image(client, seller_item, upload("x.pdf", "GIF"))

    assert response.status_code == 200  # the form again, with the error
    errors = response.context["adminform"].form.errors
    assert "“x.pdf” is not named as an image" in errors["image"][0] and "GIF" in errors["image"][0]
    seller_item.refresh_from_db()
    assert not seller_item.image and stored("x.") == []


def test_an_image_named_for_another_format_is_stored_under_its_real_extension(client, seller_item):
    response = post_image(client, seller_item, upload("renamed.jpg", "PNG"))

    assert response.status_code == 302
    seller_item.refresh_from_db()
    assert seller_item.image.name == "items/renamed.png"
    assert mimetypes.guess_type(seller_item.image.name)[0] == "image/png"  # what the server will send
    assert stored("renamed") == ["renamed.png"]


def test_a_correctly_named_image_keeps_its_name(client, seller_item):
    assert post_image(client, seller_item, upload("kept.JPEG", "JPEG")).status_code == 302
    seller_item.refresh_from_db()
    assert seller_item.image.name == "items/kept.JPEG"


def test_an_81_megapixel_image_is_refused_by_default(client, seller_item):
    # 9000 x 9000 black pixels at one bit each compress to a few kilobytes: Pillow's own warning starts at 89.5 MP.
    response = post_image(client, seller_item, upload("huge.png", "PNG", size=(9000, 9000), mode="1"))

    error = response.context["adminform"].form.errors["image"][0]
    assert "9000 x 9000 pixels (81 megapixels); the limit is 25 megapixels" in error
    seller_item.refresh_from_db()
    assert not seller_item.image and stored("huge") == []


def test_the_pixel_limit_is_a_setting(settings):
    settings.SHOP_MAX_IMAGE_PIXELS = 15
    with pytest.raises(ValidationError) as refused:
        validate_image_upload(upload("pic.png", "PNG", size=(4, 4)))
    assert refused.value.code == "too_many_pixels"
    validate_image_upload(upload("pic.png", "PNG", size=(3, 5)))


def test_a_decompression_bomb_is_refused_with_a_field_error_not_a_crash(monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 4)  # Pillow raises from twice this: the 16 pixels below
    with pytest.raises(ValidationError) as refused:
        validate_image_upload(upload("pic.png", "PNG", size=(4, 4)))
    assert refused.value.code == "too_many_pixels"


def test_the_model_field_carries_the_check_for_every_writer_not_only_the_admin():
    """Forms, the API and the shell all validate through `full_clean()`, which runs the field's validators."""
    item = ItemFactory()
    item.image = upload("x.pdf", "GIF")
    with pytest.raises(ValidationError) as refused:
        item.full_clean()
    assert list(refused.value.message_dict) == ["image"]

    item.image = upload("pic.bmp", "BMP")
    with pytest.raises(ValidationError, match="BMP images are not accepted"):
        item.full_clean()

    item.image = SimpleUploadedFile("notes.png", b"not an image at all")
    with pytest.raises(ValidationError, match="Upload a valid image"):
        item.full_clean()


def test_a_stored_image_is_not_read_again_when_the_item_is_saved(client, seller_item):
    seller_item.image.name = "items/gone.png"  # a kept file, even one missing from storage, passes as it is
    seller_item.save()
    seller_item.full_clean()
