import unicodedata

import pytest

from app.kit.text import fold, nfc, search_terms


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Đường Điện Biên", "duong dien bien"),
        ("Mù Cang Chải", "mu cang chai"),
        ("Hồ Thác Bà", "ho thac ba"),
        ("ĐÀ LẠT", "da lat"),
        ("  Suối   Giàng ", "suoi giang"),
        ("Nghĩa Lộ", "nghia lo"),
    ],
)
def test_fold_removes_accents_and_maps_d_stroke(raw: str, folded: str) -> None:
    assert fold(raw) == folded


def test_fold_handles_decomposed_input_the_same_as_composed() -> None:
    decomposed = unicodedata.normalize("NFD", "Trạm Tấu")
    assert decomposed != "Trạm Tấu"
    assert fold(decomposed) == fold("Trạm Tấu") == "tram tau"


def test_nfc_composes_and_trims() -> None:
    decomposed = unicodedata.normalize("NFD", " Yên Bái ")
    assert nfc(decomposed) == "Yên Bái"
    assert unicodedata.is_normalized("NFC", nfc(decomposed))


def test_search_terms_split_on_punctuation() -> None:
    assert search_terms("Đăng ký, hộ-kinh doanh!") == ["dang", "ky", "ho", "kinh", "doanh"]
