"""The allow-list of node labels, relationship types and vector properties.

Labels, relationship types and property names cannot be Cypher parameters, so every one that
reaches a query string must come from here; anything else is refused before a query runs.
"""

from __future__ import annotations

import re
from enum import StrEnum
from types import MappingProxyType


class Label(StrEnum):
    DATASET = "Dataset"
    USER = "User"
    ITEM = "Item"
    ENTITY = "Entity"  # an external KG entity (Freebase, DBpedia) not linked to an item
    GENRE = "Genre"
    CATEGORY = "Category"  # DBpedia dct:subject category (``cat:``)
    RESOURCE = "Resource"  # DBpedia resource linked one hop from an item (``res:``)
    ATTRIBUTE = "Attribute"  # anonymous item attribute
    RELATION = "Relation"  # a relationship type of the dataset, with a readable name


# Freebase relation names (RecBole ``.kg`` files) -> relationship types. Inverse pairs stay
# separate types, as in the source graph.
FREEBASE_RELATIONS: MappingProxyType[str, str] = MappingProxyType(
    {
        "film.film.actor": "FILM_ACTOR",
        "film.actor.film": "ACTOR_FILM",
        "film.film.genre": "FILM_GENRE",
        "film.film_genre.films_in_this_genre": "GENRE_FILMS",
        "film.film.award_nomination": "FILM_AWARD_NOMINATION",
        "film.film.award_won": "FILM_AWARD_WON",
        "film.film.produced_by": "FILM_PRODUCED_BY",
        "film.producer.film": "PRODUCER_FILM",
        "film.film.written_by": "FILM_WRITTEN_BY",
        "film.writer.film": "WRITER_FILM",
        "film.film.directed_by": "FILM_DIRECTED_BY",
        "film.director.film": "DIRECTOR_FILM",
        "film.film.cinematography": "FILM_CINEMATOGRAPHY",
        "film.cinematographer.film": "CINEMATOGRAPHER_FILM",
        "film.film.production_companies": "FILM_PRODUCTION_COMPANIES",
        "film.production_company.films": "PRODUCTION_COMPANY_FILMS",
        "film.film.rating": "FILM_RATING",
        "film.content_rating.film": "CONTENT_RATING_FILM",
        "film.film.subjects": "FILM_SUBJECTS",
        "film.film_subject.films": "FILM_SUBJECT_FILMS",
        "film.film.language": "FILM_LANGUAGE",
        "film.film.country": "FILM_COUNTRY",
        "film.film.sequel": "FILM_SEQUEL",
        "film.film.prequel": "FILM_PREQUEL",
    }
)

INTERACTED = "INTERACTED"  # user -> item, from the training split only

RELATIONSHIP_TYPES: frozenset[str] = frozenset(
    {
        INTERACTED,
        "HAS_GENRE",
        "IN_CATEGORY",
        "HAS_RESOURCE",
        "HAS_ATTRIBUTE",
        *FREEBASE_RELATIONS.values(),
    }
)

# Node properties that hold vectors (vector indexes are created on them).
VECTOR_PROPERTIES: frozenset[str] = frozenset(
    {"embedding", "persona", "persona_staged", "llm_persona"}
)


def readable_relation(relationship_type: str) -> str:
    """``FILM_DIRECTED_BY`` -> ``film directed by``; ``INTERACTED`` -> ``interacted with``;
    a generated ``REL_MADE_BY`` -> ``made by``."""
    if relationship_type == INTERACTED:
        return "interacted with"
    return relationship_type.removeprefix(GENERATED_PREFIX).lower().replace("_", " ")


_IDENTIFIER = re.compile(r"^[A-Za-z][A-Za-z0-9_]{0,63}$")
# Node properties kgrec itself sets or reads: a dataset column of one of these names would
# move nodes between namespaces or corrupt vectors, so adapters refuse it.
RESERVED_PROPERTIES = re.compile(
    r"(id|dataset|entity)|(persona|llm_persona|embedding|description)(_.*)?"
)


def is_reserved_property(name: str) -> bool:
    """Whether a dataset column named ``name`` would collide with kgrec's own properties."""
    return RESERVED_PROPERTIES.fullmatch(name) is not None


class VocabularyError(ValueError):
    """A label, relationship type or property name outside the allow-list."""


def check_label(value: str) -> str:
    if value not in {label.value for label in Label} or not _IDENTIFIER.match(value):
        raise VocabularyError(f"node label {value!r} is not in the allow-list")
    return value


# Relationship types made from a dataset's own relation or column names: a reserved prefix,
# then uppercase letters, digits and single underscores, at most 48 characters in all. They
# never collide with kgrec's own types, and nothing but this shape is accepted.
GENERATED_PREFIX = "REL_"
_GENERATED = re.compile(r"REL_[A-Z0-9]+(_[A-Z0-9]+)*")
_GENERATED_MAX = 48


def generated_relationship_type(name: str) -> str:
    """The relationship type for a dataset's relation or column ``name``:
    ``directed by`` -> ``REL_DIRECTED_BY``, ``film.film.country`` -> ``REL_FILM_FILM_COUNTRY``.

    Raises:
        VocabularyError: nothing usable is left, or the result would be too long.
    """
    words = re.sub(r"[^A-Z0-9]+", "_", name.upper()).strip("_")
    value = GENERATED_PREFIX + words
    if not words or len(value) > _GENERATED_MAX:
        raise VocabularyError(
            f"relation name {name[:80]!r} cannot become a relationship type (it needs 1 to "
            f"{_GENERATED_MAX - len(GENERATED_PREFIX)} letters or digits)"
        )
    return check_relationship_type(value)


def check_relationship_type(value: str) -> str:
    """``value`` when it is one of kgrec's own types or a generated one (see
    :func:`generated_relationship_type`); else a :class:`VocabularyError`."""
    generated = len(value) <= _GENERATED_MAX and _GENERATED.fullmatch(value) is not None
    if not (value in RELATIONSHIP_TYPES or generated) or not _IDENTIFIER.match(value):
        raise VocabularyError(f"relationship type {value!r} is not in the allow-list")
    return value


def check_vector_property(value: str) -> str:
    if value not in VECTOR_PROPERTIES or not _IDENTIFIER.match(value):
        raise VocabularyError(f"vector property {value!r} is not in the allow-list")
    return value


# Dataset names and model versions become folder and file names: letters, digits, and
# ``.``, ``_``, ``-`` inside, never ``..`` (no way out of the folder they name).
_NAME = re.compile(r"(?!.*\.\.)[A-Za-z0-9][A-Za-z0-9._-]{0,127}")


def check_name(value: str, what: str = "dataset name") -> str:
    """``value`` when it is safe as a file or folder name; else a :class:`VocabularyError`."""
    if not isinstance(value, str) or not _NAME.fullmatch(value):
        raise VocabularyError(
            f"{what} {value!r} must be 1 to 128 letters, digits, '.', '_' or '-', starting "
            "with a letter or digit, without '..'"
        )
    return value
