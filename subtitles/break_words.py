"""Where a caption line may break: each language's words that must not end a line, and the punctuation that ends
sentences and clauses.

The caption guides (Netflix's Timed Text Style Guide and its per-language guides, the BBC's subtitle guidelines)
say the same in every language they cover: never split an article from its noun or a preposition from its phrase,
break before a conjunction rather than after it, keep a subject pronoun, auxiliary or negation with its verb.
The lists below carry that out for English, French, German, Spanish, Italian and Portuguese; a language without a
list is cut at punctuation and pauses only. A word is compared in lower case, quotes stripped, apostrophes as `'`
(French `l'homme` is one word, never a break).
"""

from __future__ import annotations

from dataclasses import dataclass

SENTENCE_END = (".", "!", "?", "…", "。", "！", "？")
CLAUSE_END = (",", ";", ":", "—", "–", "，", "；", "：", "、")
OPENING_MARKS = "\"'“‘«‹([{¿¡「『（《〈【"
CLOSING_MARKS = "\"'”’»›)]}」』）》〉】"


@dataclass(frozen=True)
class BreakWords:
    """A language's words after which a line or cue should not end (lower case, apostrophes as `'`)."""

    articles: frozenset[str] = frozenset()  # and other determiners
    prepositions: frozenset[str] = frozenset()
    conjunctions: frozenset[str] = frozenset()
    possessives: frozenset[str] = frozenset()
    possessive_suffix: str | None = None  # English "'s": John's car
    not_possessive: frozenset[str] = frozenset()  # contractions that end like a possessive: it's, there's
    binds_forward: frozenset[str] = frozenset()  # subject pronouns, auxiliaries, negation, degree words
    abbreviations: frozenset[str] = frozenset()  # end in a full stop without ending the sentence: Dr. Smith

    def function_word_kind(self, text: str) -> str | None:
        """ "article", "preposition", "conjunction" or "possessive" when a line must not end on this word."""
        if _bare(text).endswith(CLAUSE_END + SENTENCE_END):
            return None  # it ends a clause: a good break, whatever the word
        word = _normalized(text)
        for kind, members in (
            ("article", self.articles),
            ("preposition", self.prepositions),
            ("conjunction", self.conjunctions),
            ("possessive", self.possessives),
        ):
            if word in members:
                return kind
        suffix = self.possessive_suffix
        if suffix and word.endswith(suffix) and len(word) > len(suffix) and word not in self.not_possessive:
            return "possessive"
        return None

    def opens_phrase(self, text: str) -> bool:
        """Whether a phrase starts with this word (a conjunction, preposition, pronoun or auxiliary): a line may
        break before it."""
        word = _normalized(text)
        return word in self.conjunctions or word in self.prepositions or word in self.binds_forward

    def binds_to_next(self, text: str) -> bool:
        word = _normalized(text)
        return word in self.binds_forward or word in self.abbreviations or word in self.not_possessive


ENGLISH = BreakWords(
    articles=frozenset(
        "a an the this that these those every each either neither another some any no such what which whose".split()
    ),
    prepositions=frozenset(
        "about above across after against along amid among around at before behind below beneath beside besides "
        "between beyond by despite during except for from in inside into near of on onto outside past per since "
        "than through throughout till to toward towards under underneath unlike until unto upon via with within "
        "without".split()
    ),
    conjunctions=frozenset(
        "and or but nor so yet because although though while whereas if unless whether as once when whenever "
        "where wherever lest cause".split()
    ),
    possessives=frozenset("my your his her its our their".split()),
    possessive_suffix="'s",
    not_possessive=frozenset(
        "it's he's she's that's what's who's where's when's why's how's there's here's let's".split()
    ),
    binds_forward=frozenset(
        "i you he she we they am is are was were be been will would shall should can could may might must do does "
        "did has have had not never very quite rather more most less least too i'm i'll i'd i've you're you'll "
        "you'd you've he'll he'd she'll she'd we're we'll we'd we've they're they'll they'd they've it'll don't "
        "doesn't didn't won't wouldn't can't cannot couldn't shouldn't isn't aren't wasn't weren't haven't hasn't "
        "hadn't mustn't".split()
    ),
    abbreviations=frozenset("mr. mrs. ms. dr. prof. st. mt. jr. sr. vs. e.g. i.e.".split()),
)
FRENCH = BreakWords(
    articles=frozenset(
        "le la les un une des du au aux ce cet cette ces quel quelle quels quelles chaque plusieurs quelques "
        "certains certaines aucun aucune tout toute".split()
    ),
    prepositions=frozenset(
        "à de en dans par pour sur sous avec sans chez vers entre contre depuis pendant avant après devant "
        "derrière selon malgré parmi envers dès sauf hors jusqu'à jusqu'au jusqu'aux".split()
    ),
    conjunctions=frozenset(
        "et ou mais donc ni car que quand lorsque puisque parce quoique si comme dont qui où".split()
    ),
    possessives=frozenset("mon ma mes ton ta tes son sa ses notre nos votre vos leur leurs".split()),
    binds_forward=frozenset(
        "je tu il ils elle elles on ne me te se très suis es est sommes êtes sont ai as avons avez ont".split()
    ),
    abbreviations=frozenset("m. mm. mme. mlle. dr. pr. st. ste. cf. p.ex.".split()),
)
GERMAN_ENDINGS = ("", "e", "en", "em", "er", "es")  # mein, meine, meinen, meinem, meiner, meines
GERMAN = BreakWords(
    articles=frozenset(
        "der die das den dem des ein eine einen einem einer eines kein keine keinen keinem keiner keines dieser "
        "diese dieses diesen diesem jeder jede jedes jeden jedem jener jene jenes welcher welche welches "
        "manche".split()
    ),
    prepositions=frozenset(
        "an auf aus außer bei bis durch für gegen hinter in im ins am ans beim vom zum zur mit nach neben ohne "
        "seit trotz über um unter von vor während wegen zu zwischen gegenüber statt".split()
    ),
    conjunctions=frozenset(
        "und oder aber denn sondern dass ob weil wenn als damit obwohl bevor nachdem sobald solange falls sowie "
        "wie".split()
    ),
    possessives=frozenset(
        [stem + ending for stem in ("mein", "dein", "sein", "ihr", "unser") for ending in GERMAN_ENDINGS]
        + "euer eure euren eurem eurer eures".split()
    ),
    binds_forward=frozenset("ich du er wir sehr".split()),  # `nicht` follows its verb: not here
    abbreviations=frozenset("dr. prof. hr. fr. nr. st. z.b. d.h. u.a. bzw. ca. vgl.".split()),
)
SPANISH = BreakWords(
    articles=frozenset(
        "el la los las un una unos unas lo al del este esta estos estas ese esa esos esas aquel aquella aquellos "
        "aquellas cada algún alguna algunos algunas ningún ninguna otro otra otros otras cualquier".split()
    ),
    prepositions=frozenset(
        "a ante bajo con contra de desde durante en entre hacia hasta mediante para por según sin sobre tras".split()
    ),
    conjunctions=frozenset("y e o u pero sino ni que porque aunque si como cuando mientras pues donde".split()),
    possessives=frozenset(
        "mi mis tu tus su sus nuestro nuestra nuestros nuestras vuestro vuestra vuestros vuestras".split()
    ),
    binds_forward=frozenset(
        "yo tú nosotros nosotras vosotros vosotras me te se nos os le les no muy más es son está están era eran "
        "fue fueron ha han he has hemos había habían".split()
    ),
    abbreviations=frozenset("sr. sra. srta. dr. dra. ud. uds. d. dña. p.ej. av. pág.".split()),
)
ITALIAN = BreakWords(
    articles=frozenset(
        "il lo la i gli le un uno una questo questa questi queste quel quello quella quei quegli quelle ogni "
        "alcuni alcune qualche nessun nessuno nessuna ciascun".split()
    ),
    prepositions=frozenset(
        "di a da in con su per tra fra del dello della dei degli delle al allo alla ai agli alle dal dallo dalla "
        "dai dagli dalle nel nello nella nei negli nelle sul sullo sulla sui sugli sulle col verso senza sotto "
        "sopra contro durante presso".split()
    ),
    conjunctions=frozenset(
        "e ed o od ma però che perché se come quando mentre né oppure dunque quindi poiché sebbene benché".split()
    ),
    possessives=frozenset(
        "mio mia miei mie tuo tua tuoi tue suo sua suoi sue nostro nostra nostri nostre vostro vostra vostri "
        "vostre".split()
    ),
    binds_forward=frozenset(
        "io tu lui lei noi voi non mi ti si ci vi molto più è sono era erano ha hanno ho abbiamo avete".split()
    ),
    abbreviations=frozenset("sig. sig.ra sigg. dott. dott.ssa prof. avv. ing. pag.".split()),
)
PORTUGUESE = BreakWords(
    articles=frozenset(
        "o a os as um uma uns umas este esta estes estas esse essa esses essas aquele aquela aqueles aquelas "
        "cada algum alguma alguns algumas nenhum nenhuma outro outra outros outras".split()
    ),
    prepositions=frozenset(
        "de em para por com sem sobre sob entre até desde contra após perante durante do da dos das no na nos "
        "nas ao aos à às pelo pela pelos pelas num numa dum duma neste nesta deste desta".split()
    ),
    conjunctions=frozenset("e ou mas porém que porque se como quando enquanto embora pois nem".split()),
    possessives=frozenset(
        "meu minha meus minhas teu tua teus tuas seu sua seus suas nosso nossa nossos nossas vosso vossa vossos "
        "vossas".split()
    ),
    binds_forward=frozenset(
        "eu tu ele ela nós vós eles elas você vocês me te se lhe lhes não muito mais é são está estão era eram "
        "foi foram tem têm".split()
    ),
    abbreviations=frozenset("sr. sra. srta. dr. dra. prof. profa. p.ex. av. pág.".split()),
)
# Add a language here (its code's first part: "fr" for fr-CA); others get punctuation and timing rules only. In
# Chinese and Japanese that means a line may break between any two characters (each is a word), best after
# punctuation (，、。 end clauses and sentences) or at a pause.
BREAK_WORDS: dict[str, BreakWords] = {
    "en": ENGLISH,
    "fr": FRENCH,
    "de": GERMAN,
    "es": SPANISH,
    "it": ITALIAN,
    "pt": PORTUGUESE,
}


def break_words_for(language: str) -> BreakWords:
    """The language's break words (`en-us` uses `en`'s); none for a language without a list."""
    return BREAK_WORDS.get(language_key(language), BreakWords())


def language_key(language: str) -> str:
    """A language code's first part, in lower case: `zh` for zh-Hans or zh_TW."""
    return language.lower().replace("_", "-").split("-")[0]


def ends_sentence(text: str, following: str | None, words: BreakWords) -> bool:
    """Whether a sentence ends with this word: closing punctuation (quotes after it allowed), not an abbreviation
    such as "Dr.", and the next word does not carry on in lower case ('"Ready?" she asked')."""
    bare = _bare(text)
    if not bare.endswith(SENTENCE_END):
        return False
    if bare.endswith(".") and _normalized(text) in words.abbreviations:
        return False
    return following is None or not _starts_lower_case(following)


def ends_clause(text: str, words: BreakWords) -> bool:
    """Whether the word ends with punctuation that makes a good break (a comma, a question, a sentence end)."""
    bare = _bare(text)
    if bare.endswith(CLAUSE_END):
        return True
    return bare.endswith(SENTENCE_END) and _normalized(text) not in words.abbreviations


def _bare(text: str) -> str:
    return text.rstrip(CLOSING_MARKS)


def _normalized(text: str) -> str:
    return text.replace("’", "'").strip(OPENING_MARKS + CLOSING_MARKS).lower()


def _starts_lower_case(text: str) -> bool:
    first = next((char for char in text if char.isalpha()), "")
    return first.islower()
