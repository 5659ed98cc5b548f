"""Language: the text search configuration (``SEARCH_TEXT_CONFIG``) makes the documents and reads the queries, a
non-English catalog stems in its own language (German "Jacken" finds "Jacke"; with "simple" nothing is stemmed),
accents fold on both sides (French "legere" finds "légère"), the head of a query is where the language puts it,
a setting the database does not know is refused with the list it has, and a change is detected and rebuilt."""

from __future__ import annotations

import pytest
from django.core.cache import cache
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import CommandError

from catalog.services import catalog_import
from search import documents
from search.keywords import QUERY_GRAMMARS, head_position, query_grammar
from search.models import SearchDocument
from search.selectors import process_caches_clear
from search.spelling import vocabulary_invalidate
from shop_search import readiness

pytestmark = pytest.mark.django_db


def use_config(settings, config: str, language: str = "") -> None:
    settings.SEARCH_TEXT_CONFIG = config
    settings.SEARCH_SPELLING_LANGUAGE = language
    process_caches_clear()  # term statistics and word lexemes were read with the previous one
    vocabulary_invalidate()


def skus(api, q: str) -> set[str]:
    body = api.get("/api/v1/search", {"q": q}).json()
    assert body["mode"] == "keyword"  # no generation: the full-text signal alone
    return {item["sku"] for item in body["results"]}


@pytest.fixture
def german_shop(catalog_dir):
    catalog_dir.add_product(sku="W1", name="Warme Jacke", categories=["Kleidung/Oberteile"],
                            description="Eine Jacke für kalte Tage.")  # fmt: skip
    catalog_dir.add_product(sku="W2", name="Zwei leichte Jacken", categories=["Kleidung/Oberteile"])
    catalog_dir.add_product(sku="M1", name="Mäntel für den Winter", categories=["Kleidung/Oberteile"])
    catalog_dir.add_product(sku="H1", name="Wanderhose", categories=["Kleidung/Hosen"])
    return catalog_dir.write()


def test_a_german_catalog_stems_in_german(api, settings, german_shop):
    use_config(settings, "german", "de")
    catalog_import(path=german_shop)

    assert skus(api, "Jacken") == {"W1", "W2"}
    assert skus(api, "jacke") == {"W1", "W2"}
    assert skus(api, "Mantel") == {"M1"}  # "Mäntel": the stem without its umlaut
    lexemes = SearchDocument.objects.filter(product__sku="M1").values_list("document", flat=True)[0]
    assert "'mantel':1A" in lexemes and "fur" not in lexemes and "für" not in lexemes  # a German stop word


def test_with_simple_nothing_is_stemmed(api, settings, german_shop):
    use_config(settings, "simple")
    catalog_import(path=german_shop)

    assert skus(api, "Jacken") == {"W2"}
    assert skus(api, "Jacke") == {"W1"}
    assert query_grammar() is None  # no language: a product matches by having the words


def test_french_accents_fold_and_the_head_comes_first(api, settings, catalog_dir):
    use_config(settings, "french", "fr")
    catalog_dir.add_product(sku="V1", name="Veste légère", categories=["Femmes/Vestes"])
    catalog_dir.add_product(sku="V2", name="Veste noire", categories=["Femmes/Vestes"])
    catalog_dir.add_product(sku="R1", name="Robe noire", categories=["Femmes/Robes"])
    catalog_import(path=catalog_dir.write())

    assert skus(api, "légère") == skus(api, "legere") == skus(api, "LÉGÈRE") == {"V1"}  # with or without accents
    # "veste" is the kind (French puts it first): every jacket, the one the other words describe first; not the
    # black dress
    for query, first in (("veste legere", "V1"), ("veste noire", "V2")):
        found = api.get("/api/v1/search", {"q": query}).json()["results"]
        assert [item["sku"] for item in found][0] == first and {item["sku"] for item in found} == {"V1", "V2"}


def test_where_the_head_of_a_query_stands():
    assert head_position(["veste", "noire"], QUERY_GRAMMARS["french"]) == 0
    assert head_position(["chaqueta", "de", "cuero"], QUERY_GRAMMARS["spanish"]) == 0
    assert head_position(["warme", "jacke", "fur", "herren"], QUERY_GRAMMARS["german"]) == 1
    assert head_position(["black", "jacket", "for", "men"]) == 1  # English by default


def test_a_configuration_the_database_does_not_have_is_refused(settings):
    settings.SEARCH_TEXT_CONFIG = "klingon"
    with pytest.raises(ImproperlyConfigured, match="not a text search configuration of the database.*german"):
        documents.text_search_config_check()
    settings.SEARCH_TEXT_CONFIG = "english'; DROP TABLE x; --"
    with pytest.raises(ImproperlyConfigured, match="is not the name of a text search configuration"):
        documents.text_search_config()
    settings.SEARCH_TEXT_CONFIG = "pg_catalog.german"
    assert documents.text_search_config_check() == "pg_catalog.german"


def test_a_web_process_with_an_unknown_configuration_is_not_ready_and_says_why(settings):
    settings.SEARCH_TEXT_CONFIG = "klingon"
    state = readiness.warm_up(searches=True)
    assert not state.ready and "SEARCH_TEXT_CONFIG 'klingon'" in state.error


def test_a_changed_configuration_is_detected_and_the_command_rebuilds_the_documents(api, settings, german_shop):
    # given documents built in German
    use_config(settings, "german", "de")
    catalog_import(path=german_shop)
    assert documents.documents_current()

    # when the shop switches to simple: detected, and the check fails until the rebuild
    use_config(settings, "simple")
    assert not documents.documents_current()
    with pytest.raises(CommandError, match="rebuild them"):
        call_command("search_documents", "--check")
    call_command("search_documents", "--no-progress")

    assert documents.documents_current()
    call_command("search_documents", "--check")
    assert skus(api, "Jacken") == {"W2"}


def test_a_web_process_queues_a_rebuild_of_documents_made_with_another_configuration(
    settings, german_shop, monkeypatch
):
    use_config(settings, "german", "de")
    catalog_import(path=german_shop)
    use_config(settings, "english", "en")
    cache.delete("search:documents-language-rebuild")
    queued = []
    monkeypatch.setattr(documents, "search_documents_refresh", lambda **options: queued.append(options))

    documents.documents_language_check()
    documents.documents_language_check()  # another process: already queued

    assert queued == [{"facets_only": False, "run_async": True}]
    cache.delete("search:documents-language-rebuild")
