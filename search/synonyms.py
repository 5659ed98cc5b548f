"""Synonyms on the full-text side of a query: a word or phrase of the query also finds what its synonyms find.

A query's words arrive as groups, each the word and its typo corrections (``search.spelling``); the keyword
signal ORs a group's alternatives and weighs the groups (``search.keywords``). A synonym adds alternatives to a
group: multi-way sets (``hoodie, hooded sweatshirt, pullover``) in every direction, one-way sets (``tee ->
t-shirt``) only from their terms to their root. A phrase of several words ("hooded sweatshirt") matches as
consecutive words, which then become one group. Typo correction comes first, so "hodie" corrected to "hoodie"
finds pullovers too; the synonyms' words are in the spelling vocabulary, so a misspelt synonym is corrected to it.
The vector signals see the query as typed (corrected): synonyms do not move vectors.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .spelling import tokenize


def term_tokens(term: str) -> tuple[str, ...]:
    """A synonym term as the query words it matches (folded like a query: "T-Shirt" -> ("t", "shirt"))."""
    return tuple(tokenize(term))


@dataclass
class SynonymTable:
    """Term (its words) -> the phrases it also means, and the longest term in words."""

    expansions: dict[tuple[str, ...], list[str]] = field(default_factory=dict)
    longest: int = 0

    def add(self, term: tuple[str, ...], means: tuple[str, ...]) -> None:
        if not term or not means or term == means:
            return
        phrases = self.expansions.setdefault(term, [])
        phrase = " ".join(means)
        if phrase not in phrases:
            phrases.append(phrase)
        self.longest = max(self.longest, len(term))

    def expand(self, tokens: list[str], alternatives: list[list[str]]) -> tuple[list[list[str]], list[dict]]:
        """(the word groups with synonyms added, what was applied: [{"term", "added"}]) of a query's tokens and
        their groups (``search.spelling.CorrectedQuery``); a term matches the words as typed or as corrected."""
        if not self.expansions:
            return alternatives, []
        groups: list[list[str]] = []
        applied: list[dict] = []
        position = 0
        while position < len(alternatives):
            matched = None
            for length in range(min(self.longest, len(alternatives) - position), 0, -1):
                span = range(position, position + length)
                for words in (tuple(tokens[i] for i in span), tuple(alternatives[i][0] for i in span)):
                    if words in self.expansions:
                        matched = (length, words)
                        break
                if matched is None and length == 1:
                    for word in alternatives[position][1:]:
                        if (word,) in self.expansions:
                            matched = (1, (word,))
                            break
                if matched:
                    break
            if matched is None:
                groups.append(list(alternatives[position]))
                position += 1
                continue
            length, words = matched
            group = list(alternatives[position]) if length == 1 else [" ".join(words)]
            added = [phrase for phrase in self.expansions[words] if phrase not in group]
            groups.append(group + added)
            applied.append({"term": " ".join(words), "added": added})
            position += length
        return groups, applied


def synonym_table(sets) -> SynonymTable:
    """The table of synonym sets (objects with ``root`` and ``terms``, as ``search.models.SynonymSet``)."""
    table = SynonymTable()
    for synonym_set in sets:
        terms = [term_tokens(term) for term in synonym_set.terms]
        if synonym_set.root:
            root = term_tokens(synonym_set.root)
            for term in terms:
                table.add(term, root)
        else:
            for term in terms:
                for other in terms:
                    table.add(term, other)
    return table


def synonyms_load() -> SynonymTable:
    from .models import SynonymSet

    return synonym_table(SynonymSet.objects.filter(enabled=True))
