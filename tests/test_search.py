"""GET /api/search: Turkish case/accent folding, scope, order, highlights, on both databases."""

import pytest

from app.services.search_text import fold, highlight, words
from tests.conftest import webhook_body


@pytest.fixture
def search(client, headers_for, people):
    """search(q, as_="owner", limit=None) -> the response."""

    def get(q, as_="owner", limit=None):
        params = {"q": q} if limit is None else {"q": q, "limit": limit}
        return client.get("/api/search", query_string=params, headers=headers_for(people[as_]))

    return get


@pytest.fixture
def stored(people, post_webhook):
    """Messages of the owner and of another agent, oldest first."""
    texts = [
        (people["owner"], "Siparişim İSTANBUL şubesinde bekliyor"),
        (people["owner"], "ÇAĞRI merkezi aradı, ışık yanıyor"),
        (people["owner"], "Kargo ÖDEMESİ ve ÜCRET iadesi"),
        (people["other"], "istanbul'a gönderim yok mu?"),
    ]
    for n, (user, content) in enumerate(texts):
        phone = "+905551234567" if user == people["owner"] else "+905559999999"
        body = webhook_body(
            user, message_id=f"wamid.S-{n}", message_content=content, customer_phone=phone
        )
        assert post_webhook(**body).status_code == 201
    return texts


def contents(response) -> list[str]:
    assert response.status_code == 200, response.get_json()
    return [r["message"]["messageContent"] for r in response.get_json()["results"]]


@pytest.mark.parametrize("query", ["istanbul", "İSTANBUL", "ıstanbul", "ISTANBUL", "İstanbul"])
def test_turkish_i_in_every_case(search, stored, query):
    assert contents(search(query)) == ["Siparişim İSTANBUL şubesinde bekliyor"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("cagri", "ÇAĞRI merkezi aradı, ışık yanıyor"),
        ("çağrı", "ÇAĞRI merkezi aradı, ışık yanıyor"),
        ("ISIK", "ÇAĞRI merkezi aradı, ışık yanıyor"),
        ("şubesinde", "Siparişim İSTANBUL şubesinde bekliyor"),
        ("SUBE", "Siparişim İSTANBUL şubesinde bekliyor"),
        ("odemesi", "Kargo ÖDEMESİ ve ÜCRET iadesi"),
        ("ücret", "Kargo ÖDEMESİ ve ÜCRET iadesi"),
        ("kargo iade", "Kargo ÖDEMESİ ve ÜCRET iadesi"),
    ],
)
def test_accents_and_case_of_every_turkish_letter(search, stored, query, expected):
    assert contents(search(query)) == [expected]


def test_every_word_must_match(search, stored):
    assert contents(search("kargo istanbul")) == []


def test_admin_searches_everyone_newest_first(search, stored):
    assert contents(search("istanbul", as_="admin")) == [
        "istanbul'a gönderim yok mu?",
        "Siparişim İSTANBUL şubesinde bekliyor",
    ]


def test_agents_see_only_their_own(search, stored):
    assert contents(search("istanbul", as_="other")) == ["istanbul'a gönderim yok mu?"]


def test_result_shape_and_highlight(search, stored, people):
    result = search("istanbul").get_json()["results"][0]
    assert set(result) == {"message", "conversation", "highlight"}
    assert result["conversation"]["userId"] == people["owner"].id
    assert result["conversation"]["id"] == result["message"]["conversationId"]
    assert result["highlight"] == "Siparişim <mark>İSTANBUL</mark> şubesinde bekliyor"


def test_limit(search, people, post_webhook):
    for n in range(5):
        body = webhook_body(
            people["owner"], message_id=f"wamid.L-{n}", message_content=f"fatura {n}"
        )
        post_webhook(**body)
    assert contents(search("fatura", limit=2)) == ["fatura 4", "fatura 3"]


def test_notes_and_replies_are_searchable(search, stored, client, headers_for, people):
    conversation = search("istanbul").get_json()["results"][0]["conversation"]["id"]
    headers = headers_for(people["owner"])
    client.post(
        f"/api/conversations/{conversation}/notes", json={"content": "Müdür onayı"}, headers=headers
    )
    client.post(
        f"/api/conversations/{conversation}/messages",
        json={"content": "Onaylandı"},
        headers=headers,
    )
    found = search("onay").get_json()["results"]
    assert [r["message"]["messageType"] for r in found] == ["text", "note"]


def test_transferred_messages_are_found_by_the_new_owner(
    search, stored, client, headers_for, people
):
    conversation = search("istanbul").get_json()["results"][0]["conversation"]["id"]
    transfer = client.patch(
        f"/api/conversations/{conversation}",
        json={"userId": people["other"].id},
        headers=headers_for(people["admin"]),
    )
    assert transfer.status_code == 200
    assert contents(search("sube")) == []
    assert contents(search("sube", as_="other")) == ["Siparişim İSTANBUL şubesinde bekliyor"]


@pytest.mark.parametrize("query", ["", "   ", "!!!", "x" * 201])
def test_bad_queries(search, query):
    response = search(query)
    assert response.status_code == 400
    assert response.get_json()["error"]["field"] == "q"


@pytest.mark.parametrize("query", ['"', "a*", "NEAR(", "a:* & b", "'", "OR", "-x"])
def test_query_syntax_of_either_engine_is_plain_text(search, stored, query):
    response = search(query)
    assert response.status_code in (200, 400)
    if response.status_code == 400:
        assert response.get_json()["error"]["field"] == "q"


def test_fold_is_one_function_for_both_databases():
    assert fold("İĞNE Işık ŞÜÖÇ ığüşöç") == "igne isik suoc igusoc"
    assert words("  Çağrı,  MERKEZİ! ") == ["cagri", "merkezi"]
    assert highlight("<b>Çağrı</b>", ["cagri"]) == "&lt;b&gt;<mark>Çağrı</mark>&lt;/b&gt;"
