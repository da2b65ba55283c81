"""Captions by the guides: cues cut by cost keep every hard rule for any timing, and the checker flags each rule."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from subtitles import PRESETS, Cue, SubtitleLayout, TimedWord, build_cues, display_width
from subtitles.break_words import ENGLISH, BreakWords, break_words_for, ends_sentence
from subtitles.checker import RULES, TIMING_RULES, CaptionReport, check_captions
from subtitles.cues import line_width_limit
from tests.invariants import check_cues_hold_every_word_without_hard_violations

DEFAULT = SubtitleLayout()
SHORTS = SubtitleLayout(style=PRESETS["shorts"], resolution=(1080, 1920), max_words_per_cue=3)
EXAMPLE = "Every word of this sentence gets its own time, so the captions light up as it is spoken."


def timed(text: str, start_s: float = 0.0, step_s: float = 0.3) -> list[TimedWord]:
    return [
        TimedWord(word, round(start_s + n * step_s, 3), round(start_s + n * step_s + step_s * 0.8, 3))
        for n, word in enumerate(text.split())
    ]


def layout_rules_broken(report: CaptionReport) -> list[str]:
    """The soft rules about breaks, shape and grouping that the report holds (timing left out)."""
    return [v.rule for v in report.violations if not v.hard and v.rule not in TIMING_RULES]


# --- Any timing: no hard violation, every word once and in order ---

VOCABULARY = [
    "the", "a", "of", "and", "to", "in", "his", "John's", "it's", "Dr.", "said,", "okay?\"", "\"Ready?\"", "she",
    "asked.", "Yes.", "no!", "—", "1,250", "3:30", "p.m.,", "well...", "你好", "世界。", "🎉", "naïve", "cafe\u0301",
    "extraordinarily", "incomprehensibilities", "internationalisation,", "(maybe)", "x",
]  # fmt: skip
word_texts = st.one_of(
    st.sampled_from(VOCABULARY), st.text(min_size=1, max_size=14).map(lambda text: "".join(text.split()) or "x")
)


@st.composite
def timed_words(draw: st.DrawFn) -> tuple[list[TimedWord], float]:
    """Words in time order, each starting in a centisecond of its own (an aligner's output), lasting 0 to 1.5 s,
    with pauses from none to over PAUSE_BREAK_S; the audio ends a centisecond or more after the last word."""
    texts = draw(st.lists(word_texts, min_size=1, max_size=60))
    previous_start, cursor = -1.0, draw(st.floats(0, 2))
    words = []
    for text in texts:
        start = max(cursor + draw(st.sampled_from([0.0, 0.004, 0.05, 0.1, 0.3, 1.0])), previous_start + 0.011)
        end = start + draw(st.sampled_from([0.0, 0.02, 0.15, 0.3, 0.6, 1.5]))
        words.append(TimedWord(text, round(start, 3), round(end, 3)))
        previous_start, cursor = round(start, 3), round(end, 3)
    return words, cursor + draw(st.floats(0.02, 1))


@pytest.mark.parametrize("layout", [DEFAULT, SHORTS], ids=["default", "shorts-3-words"])
@settings(max_examples=150, deadline=None)
@given(data=timed_words(), mode=st.sampled_from(["karaoke", "highlight", "line"]))
def test_cues_of_any_timing_break_no_hard_rule_and_hold_every_word_once_in_order(layout, data, mode):
    words, duration_s = data
    check_cues_hold_every_word_without_hard_violations(words, replace(layout, mode=mode), duration_s)


# --- The worker's own example, timed by eSpeak NG ---


@pytest.fixture(scope="module")
def example_words() -> tuple[list[TimedWord], float]:
    from tts import SynthesisOptions
    from tts.espeak import EspeakSynthesizer

    speech = EspeakSynthesizer().synthesize(EXAMPLE, None, SynthesisOptions())
    assert speech.word_times is not None
    return [TimedWord(word.text, word.start_s, word.end_s) for word in speech.word_times], speech.duration_s


def test_the_example_breaks_at_its_comma_and_leaves_no_word_alone(example_words):
    words, duration_s = example_words
    cues = build_cues(words, DEFAULT, audio_duration_s=duration_s)
    line_ends = [line[-1].text for cue in cues for line in cue.lines]
    assert "time," in line_ends
    assert "own" not in line_ends and "the" not in line_ends
    assert all(len(cue.words) > 1 for cue in cues)
    assert layout_rules_broken(check_captions(cues, DEFAULT, audio_duration_s=duration_s)) == []


def test_the_example_in_shorts_keeps_three_words_a_cue_and_no_line_wider_than_the_frame(example_words):
    words, duration_s = example_words
    cues = build_cues(words, SHORTS, audio_duration_s=duration_s)
    width = line_width_limit(SHORTS)
    assert all(len(cue.words) <= 3 for cue in cues)
    assert all(
        len(line) == 1 or display_width(" ".join(w.text for w in line)) <= width for cue in cues for line in cue.lines
    )
    assert check_captions(cues, SHORTS, audio_duration_s=duration_s).hard_count == 0


# --- Segmentation ---


@pytest.mark.parametrize("limit", [1, 2, 3, 5])
def test_no_cue_holds_more_words_than_max_words_per_cue(limit):
    words = timed("One two three four five six seven eight nine ten eleven twelve thirteen.")
    cues = build_cues(words, SubtitleLayout(max_words_per_cue=limit))
    assert [word for cue in cues for word in cue.words] == words
    assert max(len(cue.words) for cue in cues) == limit


def test_three_words_a_cue_split_four_words_two_and_two_rather_than_leave_one_alone():
    cues = build_cues(timed("Thank you very much."), SubtitleLayout(max_words_per_cue=3))
    assert [cue.text for cue in cues] == ["Thank you", "very much."]


def test_text_that_fits_on_one_line_stays_on_one_line():
    cues = build_cues(timed("Short and sweet, on one line."), DEFAULT)
    assert [len(cue.lines) for cue in cues] == [1]


def test_a_line_never_ends_on_an_article_when_another_break_fits():
    cues = build_cues(timed("I walked all the way down to the harbour and looked at the boats for a while."), DEFAULT)
    assert all(line[-1].text not in ("the", "a", "to", "at", "for", "and") for cue in cues for line in cue.lines)


def test_two_lines_break_before_a_conjunction_into_even_lines():
    cues = build_cues(timed("Captions light up exactly when each word is spoken"), DEFAULT)
    assert [" ".join(word.text for word in line) for line in cues[0].lines] == [
        "Captions light up exactly",
        "when each word is spoken",
    ]


def test_two_lines_take_the_bottom_heavy_shape_between_equally_good_breaks():
    # 15 + 20 columns or 20 + 15: the shorter line on top.
    cues = build_cues(timed("Tall dark pines line cold grey hills"), SubtitleLayout(max_chars_per_line=20))
    assert [" ".join(word.text for word in line) for line in cues[0].lines] == [
        "Tall dark pines",
        "line cold grey hills",
    ]


def test_a_title_or_a_question_inside_a_quotation_does_not_end_a_cue():
    words = timed('Dr. Smith asked, "Ready?" she said, and they left.')
    assert [cue.text.replace("\n", " ") for cue in build_cues(words, DEFAULT)] == [
        'Dr. Smith asked, "Ready?" she said, and they left.'
    ]


@pytest.mark.parametrize(
    ("text", "following", "ends"),
    [
        ("left.", "Then", True),
        ('okay?"', "Then", True),
        ('"Ready?"', "she", False),
        ("Dr.", "Smith", False),
        ("well...", "maybe", False),
        ("世界。", "你好", True),
        ("time,", "so", False),
        ("end.", None, True),
    ],
)
def test_sentence_ends_allow_closing_quotes_and_skip_titles_and_lower_case_runs(text, following, ends):
    assert ends_sentence(text, following, ENGLISH) is ends


def test_break_words_are_looked_up_by_the_languages_first_part_and_others_get_none():
    assert break_words_for("en-US") is ENGLISH
    assert break_words_for("xx") == BreakWords()


# --- Break words beyond English: the same guides, each language's own words ---

PASSAGES = {
    "fr": "Le matin, nous sommes partis vers la mer avec les enfants de la voisine et nous avons marché pendant des "
    "heures sur le sable mouillé. Le soir, ma grand-mère nous attendait devant la porte de sa maison pour nous "
    "raconter une histoire de son enfance à la campagne.",
    "de": "Am Morgen sind wir mit den Kindern der Nachbarin zum Meer gefahren und stundenlang über den nassen Sand "
    "am Ufer gelaufen. Am Abend wartete unsere Großmutter vor der Tür ihres Hauses, um uns eine Geschichte aus "
    "ihrer Kindheit auf dem Land zu erzählen.",
    "es": "Por la mañana fuimos hacia el mar con los hijos de la vecina y caminamos durante horas sobre la arena "
    "mojada de la playa. Por la noche, mi abuela nos esperaba delante de la puerta de su casa para contarnos una "
    "historia de su infancia en el campo.",
    "it": "La mattina siamo andati verso il mare con i figli della vicina e abbiamo camminato per ore sulla sabbia "
    "bagnata della spiaggia. La sera, mia nonna ci aspettava davanti alla porta della sua casa per raccontarci "
    "una storia della sua infanzia in campagna.",
    "pt": "De manhã fomos para o mar com os filhos da vizinha e caminhámos durante horas sobre a areia molhada da "
    "praia. À noite, a minha avó esperava-nos à porta da sua casa para nos contar uma história da sua infância "
    "no campo.",
}


@pytest.mark.parametrize("language", sorted(PASSAGES))
def test_each_languages_captions_never_end_a_line_on_its_articles_or_prepositions(language):
    words = timed(PASSAGES[language])
    layout = replace(DEFAULT, language=language)
    report = check_captions(build_cues(words, layout), layout)
    assert report.count("break_after_function_word") == 0, report.violations
    # Cut without the language's words, the same passage does end lines on them, and the checker says so.
    unaware = build_cues(words, replace(DEFAULT, language="xx"))
    assert check_captions(unaware, layout).count("break_after_function_word") > 0


@pytest.mark.parametrize(
    ("language", "word", "kind"),
    [("fr", "l'autre", None), ("fr", "«Les", "article"), ("de", "Meinem", "possessive"), ("de", "zur", "preposition"),
     ("es", "del", "article"), ("it", "nella", "preposition"), ("pt", "às", "preposition"), ("pt", "casa,", None)],
)  # fmt: skip
def test_break_words_of_other_languages_are_found_in_any_case_and_quotes(language, word, kind):
    assert break_words_for(f"{language}-XX").function_word_kind(word) == kind


def test_titles_in_other_languages_do_not_end_a_sentence():
    assert not ends_sentence("M.", "Dupont", break_words_for("fr"))
    assert not ends_sentence("Sra.", "García", break_words_for("es"))
    assert not ends_sentence("z.B.", "Wasser", break_words_for("de"))
    assert ends_sentence("Haus.", "Dann", break_words_for("de"))


# --- The checker flags each rule on a hand-made cue list ---

CHECK_LAYOUT = SubtitleLayout(max_chars_per_line=20, max_lines=2, max_words_per_cue=6, max_duration_s=5.0)


def cue(lines: list[str], start_s: float, end_s: float, spoken_until_s: float | None = None) -> Cue:
    """A cue of these lines on screen from start to end, its words spread evenly until `spoken_until_s`."""
    texts = [line.split() for line in lines]
    count = sum(len(line) for line in texts)
    step_s = ((spoken_until_s if spoken_until_s is not None else end_s) - start_s) / count
    words, index = [], 0
    for line in texts:
        words.append([])
        for text in line:
            words[-1].append(TimedWord(text, start_s + index * step_s, start_s + (index + 1) * step_s))
            index += 1
    return Cue(lines=tuple(tuple(line) for line in words), end_s=end_s)


CASES: dict[str, Callable[[], tuple[list[Cue], float | None]]] = {
    "line_length": lambda: ([cue(["We went down to", "the river and sat there."], 0, 4)], None),
    "line_count": lambda: ([cue(["We went", "to the", "river."], 0, 2)], None),
    "max_words": lambda: ([cue(["We went to the", "river and sat."], 0, 2.5)], None),
    "max_duration": lambda: ([cue(["Hello there."], 0, 6)], None),
    "order": lambda: ([cue(["Hello there."], 2, 3), cue(["Good morning."], 0, 1)], None),
    "overlap": lambda: ([cue(["Hello there."], 0, 2), cue(["Good morning."], 1.5, 3)], None),
    "past_audio_end": lambda: ([cue(["Hello there."], 0, 2)], 1.5),
    "speaker_change": lambda: (
        [Cue(lines=((TimedWord("Hi", 0, 0.5, "host"), TimedWord("there.", 0.5, 1, "guest")),), end_s=1.5)],
        None,
    ),
    "word_too_wide": lambda: ([cue(["Incomprehensibilities."], 0, 2)], None),
    "min_duration": lambda: ([cue(["Hi there."], 0, 0.3), cue(["Good morning."], 1, 2)], None),
    "reading_speed": lambda: ([cue(["Unbelievably fast", "talking here."], 0, 0.8)], None),
    "gap": lambda: ([cue(["Hello there."], 0, 1), cue(["Good morning."], 1.02, 2)], None),
    "break_after_function_word": lambda: ([cue(["I went to the", "market today."], 0, 2)], None),
    "break_misses_punctuation": lambda: ([cue(["So we", "tried, but it broke."], 0, 2.5)], None),
    "line_shape": lambda: ([cue(["We all went home", "early."], 0, 2)], None),
    "one_line_fits": lambda: ([cue(["Hello", "there."], 0, 1)], None),
    "one_word_cue": lambda: ([cue(["We"], 0, 0.7), cue(["went home."], 0.8, 2)], None),
    "sentence_split": lambda: ([cue(["We went"], 0, 0.9), cue(["home early."], 1.0, 2)], None),
}


def test_there_is_a_case_for_every_rule():
    assert set(CASES) == set(RULES)


@pytest.mark.parametrize("rule", list(CASES))
def test_the_checker_flags_the_rule_on_a_cue_list_that_breaks_it(rule):
    cues, audio_duration_s = CASES[rule]()
    report = check_captions(cues, CHECK_LAYOUT, audio_duration_s=audio_duration_s)
    flagged = [violation for violation in report.violations if violation.rule == rule]
    assert flagged, report.violations
    assert all(violation.hard is RULES[rule][0] and violation.detail for violation in flagged)


def test_captions_that_keep_every_rule_have_no_violation():
    cues = [
        cue(["Rivers run cold", "in the winter."], 0.0, 2.5),
        cue(["It was cold,", "but we stayed."], 2.7, 4.2),
    ]
    report = check_captions(cues, CHECK_LAYOUT, audio_duration_s=5.0)
    assert report.violations == ()
    assert report.counts_by_rule() == dict.fromkeys(RULES, 0)


def test_the_checker_forgives_what_no_cutting_could_avoid():
    # A lone sentence of one word, a function word too wide to share a line with the next, a cue cut short by the
    # audio's end: none of them points at a better choice.
    narrow = SubtitleLayout(max_chars_per_line=10, max_duration_s=5.0)
    cues = [cue(["Stop."], 0.0, 0.7), cue(["The", "extraordinary"], 0.8, 1.6), cue(["thing."], 1.7, 2.0)]
    rules = [violation.rule for violation in check_captions(cues, narrow, audio_duration_s=2.0).violations]
    assert "break_after_function_word" not in rules and "min_duration" not in rules
    assert rules.count("one_word_cue") == 1  # "thing." could have shared a cue with "extraordinary"


def test_the_jobs_language_picks_the_break_words_the_captions_avoid():
    from worker.contract import parse_job
    from worker.plan import Plan

    job = parse_job({"text": "Hallo und tschüss.", "language": "de", "tts": {"engine": "espeak"}})
    assert Plan.of(job, default_engine="espeak").subtitle_layout.language == "de"
    words = [TimedWord(text, i * 0.4, i * 0.4 + 0.35) for i, text in enumerate("dog house a on cat red".split())]
    layout = SubtitleLayout(max_chars_per_line=14, max_lines=2)
    # In English a line never ends on "a"; German's lists know nothing of it, so the lines' shape decides.
    assert [[w.text for w in line] for line in build_cues(words, layout)[0].lines][0] == ["dog", "house"]
    german = build_cues(words, replace(layout, language="de"))
    assert [[w.text for w in line] for line in german[0].lines][0] == ["dog", "house", "a"]


def test_capitals_get_fewer_columns_than_mixed_case_text():
    shorts = SubtitleLayout(resolution=(1080, 1920), style=PRESETS["shorts"])
    assert line_width_limit(replace(shorts, uppercase=True)) < line_width_limit(shorts)
    classic = SubtitleLayout()
    assert line_width_limit(replace(classic, uppercase=True)) < line_width_limit(classic) == 42
