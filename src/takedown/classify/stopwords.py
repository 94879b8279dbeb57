"""Which evidence terms are worth showing a reviewer: content words, never stop-words.

The fast tier's weights on "the" or "of the" are real (propaganda tweets use articles more than
headline-style news does) but useless as evidence. A displayed term must have at least one
token that is neither on the small multilingual stop-word list below nor among the model's
most common training words (`common` comes from the model's config: words in more than
`training.COMMON_DF` of training texts), and is not a bare number or single letter.
"""

from __future__ import annotations

from collections.abc import Collection

STOPWORDS: frozenset[str] = frozenset(
    """
    a an the and or but if of to in on at by for with from as into onto than then that this these
    those there here is are was were be been being am do does did doing have has had having it its
    it's i me my we us our you your he him his she her they them their what which who whom whose
    when where why how all any both each few more most other some such no nor not only own same so
    too very can will just should would could may might must shall s t don now also about over
    under again further once up down out off above below between through during before after
    rt via amp im u ur
    see sees saw seen get gets got getting go goes going gone went come comes came know knows knew
    look looks looking make makes made take takes took want wants wanted say says tell let give put
    think thing things happen happens happened even still back way well like just really much many
    every never ever always already yet today new one ones two three near around yes oh ok
    der die das den dem des ein eine einen einem einer eines und oder aber wenn als wie im in an
    auf aus bei mit nach von vor zu zum zur ist sind war waren wird werden hat haben hatte ich du
    er sie es wir ihr sich nicht auch noch nur so da dass daß für über unter um am beim bis durch
    gegen ohne man kein keine mehr sehr schon dann denn doch ja nein was wer wo
    uns euch mich dich mir dir ihm ihn ihnen mein dein sein seine ihre unser unsere euer eure
    heute hier dort jetzt immer wieder mal alle alles diese dieser dieses jeder etwas nichts kann
    können muss müssen soll sollen will wollen wurde wurden habe hast bin bist gibt geht ganz viel
    viele ob weil damit also hin her
    le la les un une des du de d l et ou mais si en dans sur sous par pour avec sans au aux ce cet
    cette ces est sont était être a ont avoir je tu il elle nous vous ils elles se sa son ses leur
    leurs ne pas plus que qui quoi dont où y qu c n s m
    nos notre vos votre mes mon ma ton ta tes lui eux ça cela ceci tout tous toute toutes fait faire
    comme aussi très bien peut doit ici là même encore déjà quand alors donc car ni
    il lo gli i una uno di da con su per tra fra che non è sono e ed o anche come della dello
    delle degli dei del al alla alle ai agli nel nella nei
    si ci ne li se più molto tutto tutti questo questa quello quella essere ha hanno ho io lui lei
    noi voi loro mio suo nostro quando dove perché già ancora così
    في من على إلى الى عن مع هذا هذه ذلك تلك التي الذي الذين هو هي هم نحن أنا انا أن ان إن كان كانت
    قد لا ما لم لن او أو ثم كل بعد قبل عند حتى بين و يا ف ب ل عليه عليها فيه فيها به بها له لها منه
    إلا الا لكن لقد كما أي اي هل هنا هناك ذا عليهم لهم منهم فيهم بهم إنه انه أنه إنها وقد وهو وهي
    وفي ومن وعلى
    """.split()  # noqa: SIM905 - one readable block per language beats a 400-item literal
)


def is_content_term(term: str, common: Collection[str] = ()) -> bool:
    """True when some token of `term` (a word or a bigram) carries content."""
    for token in term.split():
        if len(token) < 2 or token.isdigit():
            continue
        if token in STOPWORDS or token in common:
            continue
        return True
    return False
