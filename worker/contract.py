"""The job contract, v1: what a caller sends in `{"input": {...}}`.

Every field has a description and bounds; unknown fields are refused, so a typo is an error instead of a
silently ignored option. `parse_job` turns anything a caller can send into a `Job` (synthesize, align,
transcribe, voice.*) or an `InvalidInput` that names the field and the fix. The README documents the same
contract with examples.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    StringConstraints,
    Tag,
    ValidationError,
    ValidationInfo,
    field_validator,
    model_validator,
)

from alignment import AlignedChar, AlignedWord
from audio import AudioFile
from common.errors import InvalidInput
from common.ffmpeg import AudioFormat
from common.text import is_unspoken, unspaced
from storage import PRESIGN_MAX_S, StoredObject
from subtitles import ALL_FORMATS, PRESETS, SubtitleFormat, SubtitleLayout, line_columns_for, speaker_looks
from tts import ChunkSpan, Speech
from voice import VoiceSource

MAX_TEXT_CHARS = 20_000
MAX_ALIGN_TEXT_CHARS = 200_000  # two hours of speech is about 130,000 characters of English
LANGUAGE_CODE = r"^[a-z]{2,3}$"  # ISO 639-1 or -3, as the aligners, eSpeak NG and Whisper name languages
MAX_VOICE_BASE64_CHARS = 40 * 1024 * 1024  # ~30 MB of audio once decoded
# A key in the worker's own bucket, as callers may name one (a voice clip, a recording); '..' parts are refused
# by the models that take one.
S3Key = Annotated[str, StringConstraints(max_length=512, pattern=r"^[A-Za-z0-9!_.*'()-][A-Za-z0-9!_.*'()/-]*$")]
MAX_SCRIPT_ITEMS = 500
MAX_SPEAKERS = 10
MAX_PAUSE_S = 60.0


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


VOICE_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$"
SPEAKER_NAME = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$"
# What a name that breaks its pattern is told, instead of the pattern.
NAME_RULES = {
    VOICE_NAME: "use 1 to 64 letters, digits, - and _, starting with a letter or digit",
    SPEAKER_NAME: "use 1 to 32 letters, digits, - and _, starting with a letter or digit",
}
VoiceName = Annotated[str, Field(pattern=VOICE_NAME, description="A saved voice: letters, digits, - and _.")]
SpeakerName = Annotated[str, Field(pattern=SPEAKER_NAME, description="A script's speaker: letters, digits, - and _.")]


class VoiceInput(_Strict):
    """The reference voice: exactly one source, plus what is said in it (a saved voice brings its own); or, for
    the espeak engine, one of eSpeak NG's own voices.

    Clips up to 60 s are accepted; the worker trims silence and cuts longer ones to 12 s at a pause (and the
    transcript with them). Without `text`, the worker transcribes the clip once and remembers it. A clip in
    another language than the text (cross-lingual cloning) says so in `language`."""

    base64: str | None = Field(
        None, max_length=MAX_VOICE_BASE64_CHARS, description="The clip itself, base64 (wav, mp3, flac, ogg, m4a)."
    )
    url: str | None = Field(None, max_length=2048, description="An http(s) URL of the clip.")
    s3_key: S3Key | None = Field(None, description="The key of the clip in the worker's own bucket.")
    name: VoiceName | None = Field(None, description="A voice saved with a voice.save job.")
    espeak: str | None = Field(
        None,
        pattern=r"^[a-z]{2,3}(-[a-z0-9]{1,8}){0,2}(\+[a-z0-9_-]{1,16})?$",
        description="The espeak engine's own voice: a language and a variant, e.g. 'en+f3', 'en+m3', 'en-us+klatt'.",
    )
    text: str | None = Field(
        None,
        min_length=1,
        max_length=1000,
        description="The transcript of the clip, exactly as spoken. Leave out to have the worker transcribe it.",
    )
    language: str | None = Field(
        None,
        pattern=LANGUAGE_CODE,
        description="Language spoken in the clip, for cutting and transcribing it. Default: the job's language.",
    )

    @field_validator("text")
    @classmethod
    def _spoken(cls, text: str | None) -> str | None:
        if text is not None and not text.strip():
            raise ValueError("must be what is said in the clip, not blank")
        return text

    @field_validator("language")
    @classmethod
    def _only_for_a_clip(cls, language: str | None, info: ValidationInfo) -> str | None:
        if language is not None and info.data.get("name"):
            raise ValueError("a saved voice was prepared in its own language when it was saved; leave this out")
        return language

    def source(self, field: str) -> VoiceSource:
        """The voice stage's view of this input; `field` is where the job gave it (for error messages)."""
        return VoiceSource(
            base64=self.base64,
            url=self.url,
            s3_key=self.s3_key,
            name=self.name,
            espeak=self.espeak,
            text=self.text,
            language=self.language,
            field=field,
        )

    @model_validator(mode="after")
    def _exactly_one_source(self) -> VoiceInput:
        given = [name for name in ("base64", "url", "s3_key", "name", "espeak") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(
                f"give exactly one of base64, url, s3_key, name or espeak (got {', '.join(given) or 'none'})"
            )
        if self.espeak and (self.text or self.language):
            raise ValueError("an eSpeak NG voice is not a clip: leave out text and language")
        if self.s3_key and ".." in self.s3_key.split("/"):
            raise ValueError("s3_key may not contain '..' parts")
        return self


class TTSOptions(_Strict):
    """Which engine speaks, and how."""

    engine: Literal["f5", "espeak"] | None = Field(
        None,
        description="f5: F5-TTS clones the voice (GPU); espeak: eSpeak NG, no cloning, runs anywhere. "
        "Default: the worker's profile (f5, or espeak in the offline profile).",
    )
    speed: Annotated[float, Field(ge=0.3, le=3.0, description="Speaking rate; 1.0 is the voice's own pace.")] = 1.0
    nfe_step: Annotated[int, Field(ge=4, le=128, description="Flow-matching steps: fewer is faster.")] = 32
    cfg_strength: Annotated[float, Field(ge=0.0, le=10.0, description="Classifier-free guidance.")] = 2.0
    sway_sampling_coef: Annotated[float, Field(ge=-1.0, le=1.0, description="Sway sampling coefficient.")] = -1.0
    seed: Annotated[
        int | None, Field(ge=0, le=2**31 - 1, description="Same seed, same text and voice → same audio.")
    ] = None
    cross_fade_s: Annotated[float, Field(ge=0.0, le=1.0, description="Cross-fade between text chunks.")] = 0.15
    remove_silence: bool = Field(
        False,
        description="Shorten pauses longer than max_pause_s and trim silence at both ends; word timings are "
        "measured on the shortened audio.",
    )
    max_pause_s: Annotated[
        float, Field(ge=0.05, le=2.0, description="Longest pause kept when remove_silence is on.")
    ] = 0.3
    normalize_text: bool = Field(
        True,
        description="Say numbers, currency, dates, times and abbreviations as words (English fully; other "
        "languages numbers only). Subtitles always show the words as written.",
    )


class VoiceTTSOptions(_Strict):
    """How one speaker or one script line is spoken, where it differs from the job's `tts`."""

    speed: Annotated[float, Field(ge=0.3, le=3.0)] | None = None
    nfe_step: Annotated[int, Field(ge=4, le=128)] | None = None
    cfg_strength: Annotated[float, Field(ge=0.0, le=10.0)] | None = None
    sway_sampling_coef: Annotated[float, Field(ge=-1.0, le=1.0)] | None = None
    cross_fade_s: Annotated[float, Field(ge=0.0, le=1.0)] | None = None
    remove_silence: bool | None = None
    max_pause_s: Annotated[float, Field(ge=0.05, le=2.0)] | None = None
    normalize_text: bool | None = None

    def over(self, job_tts: TTSOptions) -> TTSOptions:
        """The job's options with these changes."""
        return job_tts.model_copy(update=self.model_dump(exclude_none=True))


class AudioOptions(_Strict):
    """The audio file the caller gets."""

    format: AudioFormat = Field("wav", description="Container and codec of the output audio.")
    sample_rate_hz: Annotated[
        int | None, Field(ge=8000, le=48000, description="Resample the output; default: the engine's own rate.")
    ] = None
    loudness_lufs: Annotated[
        float | None,
        Field(
            ge=-40,
            le=-5,
            description="Integrated loudness target (EBU R128), e.g. -23 broadcast, -16 podcasts and web, "
            "-14 streaming; peaks are never clipped. Default: as generated.",
        ),
    ] = None


Colour = Annotated[
    str, Field(pattern=r"^#[0-9A-Fa-f]{6}([0-9A-Fa-f]{2})?$", description="#RRGGBB or #RRGGBBAA (AA = opacity).")
]
OpaqueColour = Annotated[str, Field(pattern=r"^#[0-9A-Fa-f]{6}$", description="#RRGGBB.")]
Length = Annotated[float, Field(ge=0, le=2000, description="A fraction of the video size when ≤ 1, else pixels.")]


class StyleOverrides(_Strict):
    """Changes to the preset's look; anything left out keeps the preset's value."""

    font: str | None = Field(
        None,
        min_length=1,
        max_length=100,
        pattern=r"^[^\x00-\x1f,{}\\]+$",
        description="Font family, e.g. 'DejaVu Sans' (no commas, braces or control characters).",
    )
    size: Length | None = Field(None, description="Font size: fraction of the video height, or pixels.")
    primary_colour: Colour | None = Field(
        None, description="Highlight colour: words spoken (karaoke) or being spoken (highlight mode)."
    )
    secondary_colour: Colour | None = Field(
        None, description="Colour of the other words (not yet spoken in karaoke; all text in word and line modes)."
    )
    outline_colour: Colour | None = None
    back_colour: Colour | None = Field(None, description="Shadow or box colour.")
    bold: bool | None = None
    outline: Length | None = Field(None, description="Outline thickness.")
    shadow: Length | None = Field(None, description="Shadow distance.")
    box: bool | None = Field(None, description="An opaque box behind the text instead of an outline.")
    alignment: Annotated[int, Field(ge=1, le=9, description="Numpad position: 2 bottom centre, 5 centre.")] | None = (
        None
    )
    margin_h: Length | None = Field(None, description="Left and right margin.")
    margin_v: Length | None = Field(None, description="Vertical margin.")

    def as_style_fields(self) -> dict[str, object]:
        renamed = {"primary_colour": "primary", "secondary_colour": "secondary"}
        fields = self.model_dump(include=set(StyleOverrides.model_fields))
        return {renamed.get(name, name): value for name, value in fields.items() if value is not None}


class SpeakerLookOptions(StyleOverrides):
    """How one script speaker's captions look: their name, and changes to the preset's style."""

    name: str | None = Field(
        None,
        min_length=1,
        max_length=40,
        pattern=r"^[^\x00-\x1f]+$",
        description="The name shown for the speaker (name_prefix, WebVTT voice tags, SRT). Default: the speaker key.",
    )


class SubtitleOptions(_Strict):
    """Which subtitle files to write, how lines are built and how they look."""

    formats: tuple[SubtitleFormat, ...] = Field(ALL_FORMATS, min_length=1, description="Files to write.")
    mode: Literal["karaoke", "highlight", "word", "line"] = Field(
        "karaoke",
        description="karaoke: words light up in a line as they are spoken and stay lit; highlight: only the word "
        "being spoken is in the highlight colour; word: one word at a time; line: plain lines.",
    )
    karaoke_tag: Literal["k", "kf", "ko"] = Field(
        "kf", description="ASS karaoke effect (karaoke mode): fill (kf), jump (k), outline (ko)."
    )
    max_chars_per_line: Annotated[int, Field(ge=8, le=200)] | None = Field(
        None,
        description="Line length limit in display columns (CJK and emoji count two). Default: the guides' for the "
        "language: 42, or 32 for Chinese (16 characters) and 26 for Japanese (13).",
    )
    max_lines: Annotated[int, Field(ge=1, le=4, description="Lines shown together in one event.")] = 2
    max_words_per_cue: Annotated[int, Field(ge=1, le=20)] | None = Field(
        None, description="At most this many words on screen together (short-video captions: 2-4). None: no limit."
    )
    uppercase: bool = Field(
        False, description="Display captions in capitals (every subtitle file); `words` keep the text as written."
    )
    highlight_scale: Annotated[float, Field(ge=1.0, le=1.5)] = Field(
        1.0,
        description="Highlight mode: the spoken word grows to this size mid-word and back (a pop); 1.0: no pop.",
    )
    resolution: tuple[Annotated[int, Field(ge=16, le=7680)], Annotated[int, Field(ge=16, le=7680)]] = Field(
        (1920, 1080),
        description="Video size [width, height]; ASS PlayResX/PlayResY (default: output.video's size, if any).",
    )
    preset: Literal["classic", "shorts", "minimal"] = Field(
        "classic", description="classic: bottom centre; shorts: large and centred; minimal: small and quiet."
    )
    style: StyleOverrides = Field(default_factory=StyleOverrides)
    min_duration_s: Annotated[float, Field(ge=0, le=5, description="Shortest time a cue stays on screen.")] = 0.6
    max_duration_s: Annotated[float, Field(ge=0.5, le=30, description="Longest cue; longer ones are split.")] = 7.0
    allow_overlap: bool = Field(False, description="Let a cue's minimum duration run into the next cue.")
    speakers: dict[SpeakerName, SpeakerLookOptions] = Field(
        default_factory=dict,
        max_length=MAX_SPEAKERS,
        description="Scripts: per speaker, the name shown and style changes (e.g. primary_colour, alignment). "
        "Each speaker gets a colour from the preset's palette otherwise.",
    )
    name_prefix: bool = Field(False, description="Scripts: start each speaker's turn with their name in ASS.")

    def layout(
        self, language: str = "en", speakers: Sequence[str] = (), video: tuple[int, int] | None = None
    ) -> SubtitleLayout:
        """How cues are built and look (the subtitles stage's options), for text in `language` said by
        `speakers` (a script's, in order of appearance). With a `video` of the job's to caption, the subtitle
        files are laid out for its size unless the job gave `resolution`: a portrait video's captions stay
        upright wherever the files are used with it."""
        resolution = self.resolution if video is None or "resolution" in self.model_fields_set else video
        looks = speaker_looks(
            PRESETS[self.preset].with_overrides(self.style.as_style_fields()),
            speakers,
            overrides={name: look.as_style_fields() for name, look in self.speakers.items()},
            labels={name: look.name for name, look in self.speakers.items() if look.name},
        )
        return SubtitleLayout(
            language=language,
            mode=self.mode,
            karaoke_tag=self.karaoke_tag,
            max_chars_per_line=self.max_chars_per_line or line_columns_for(language),
            max_lines=self.max_lines,
            max_words_per_cue=self.max_words_per_cue,
            uppercase=self.uppercase,
            highlight_scale=self.highlight_scale,
            min_duration_s=self.min_duration_s,
            max_duration_s=self.max_duration_s,
            allow_overlap=self.allow_overlap,
            resolution=resolution,
            style=PRESETS[self.preset].with_overrides(self.style.as_style_fields()),
            speakers=looks,
            name_prefix=self.name_prefix,
        )

    @field_validator("highlight_scale")
    @classmethod
    def _scale_in_highlight_mode(cls, scale: float, info: ValidationInfo) -> float:
        if scale != 1.0 and info.data.get("mode") != "highlight":
            raise ValueError("applies only to mode 'highlight' (the word being spoken grows)")
        return scale

    @field_validator("formats")
    @classmethod
    def _no_repeats(cls, formats: tuple[SubtitleFormat, ...]) -> tuple[SubtitleFormat, ...]:
        if len(set(formats)) != len(formats):
            raise ValueError("each format at most once")
        return formats


class ImageBackground(_Strict):
    image: str = Field(..., max_length=2048, description="An http(s) URL of a png, jpeg or webp picture.")


class VideoBackground(_Strict):
    video: str = Field(..., max_length=2048, description="An http(s) URL of an mp4, mov, webm or mkv video.")


class VideoOptions(_Strict):
    """A finished MP4: the speech as its soundtrack, the captions burned in."""

    background: OpaqueColour | ImageBackground | VideoBackground = Field(
        "#101010",
        description="A colour, {'image': url} (scaled to cover, centre-cropped) or {'video': url} (its picture, "
        "scaled and cropped the same way, looped or cut to the speech; its sound is dropped).",
    )
    resolution: tuple[Annotated[int, Field(ge=64, le=3840)], Annotated[int, Field(ge=64, le=3840)]] = Field(
        (1080, 1920), description="[width, height], even numbers; the captions are laid out for it."
    )
    fps: Annotated[int, Field(ge=1, le=60, description="Frames per second.")] = 30

    @field_validator("resolution")
    @classmethod
    def _even(cls, resolution: tuple[int, int]) -> tuple[int, int]:
        if any(side % 2 for side in resolution):
            raise ValueError("width and height must be even numbers (H.264 with 4:2:0 colour needs them)")
        return resolution


class OutputOptions(_Strict):
    """Where results go in the bucket and how long their links last."""

    prefix: str | None = Field(
        None, max_length=200, description="Folder for this job's files: letters, digits, '-', '_', '.', '/'."
    )
    presign_expiry_s: Annotated[
        int, Field(ge=60, le=PRESIGN_MAX_S, description="Lifetime of presigned URLs (S3 allows at most 7 days).")
    ] = 3600
    split: Literal["none", "lines"] = Field(
        "none",
        description="lines: also write each script line (a text job is one line) as its own audio and subtitle "
        "files, listed in the result's `lines`.",
    )
    video: VideoOptions | None = Field(None, description="Also make an MP4 with the captions burned in.")
    inline: bool = Field(
        False,
        description="Put the files' contents in the result too (audio and video as base64, subtitles as text), "
        "within RunPod's payload limit. Without a bucket on an endpoint, the worker does so anyway.",
    )

    @field_validator("prefix")
    @classmethod
    def _safe_prefix(cls, prefix: str | None) -> str | None:
        if prefix is None:
            return None
        parts = prefix.strip("/").split("/")
        if any(part in ("", ".", "..") for part in parts) or prefix.startswith("/"):
            raise ValueError("must be a relative path without empty, '.' or '..' parts (e.g. 'videos/2024')")
        allowed = set("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./")
        if not set(prefix) <= allowed:
            raise ValueError("may hold only letters, digits, '-', '_', '.' and '/'")
        return prefix.strip("/")


class AlignmentOptions(_Strict):
    """What the word alignment reports."""

    aligner: Literal["auto", "wav2vec2", "pocketsphinx", "engine"] = Field(
        "auto",
        description="auto: the engine's own word timings if it has them (espeak), else wav2vec2 for the language, "
        "else pocketsphinx (English).",
    )
    characters: bool = Field(False, description="Also return each character's start and end in `words[].chars`.")


class ScriptLine(_Strict):
    """One line of a script: said by its speaker, in the speaker's voice unless it brings its own."""

    speaker: SpeakerName | None = Field(None, description="Who says it: a key of `speakers` when the job has them.")
    text: str = Field(..., min_length=1, max_length=MAX_TEXT_CHARS, description="What to say; <break> tags pause.")
    voice: VoiceInput | None = Field(None, description="This line's own voice, instead of the speaker's.")
    tts: VoiceTTSOptions = Field(default_factory=VoiceTTSOptions, description="How this line differs (e.g. speed).")

    @field_validator("text")
    @classmethod
    def _has_words(cls, text: str) -> str:
        return _has_words(text)


class ScriptPause(_Strict):
    """Silence between lines."""

    pause_s: Annotated[float, Field(gt=0, le=MAX_PAUSE_S, description="How long, in seconds.")]


def _script_item_kind(item: Any) -> str | None:
    if isinstance(item, dict):
        return "pause" if "pause_s" in item else "line"
    if isinstance(item, ScriptPause):
        return "pause"
    return "line" if isinstance(item, ScriptLine) else None


ScriptItem = Annotated[
    Annotated[ScriptLine, Tag("line")] | Annotated[ScriptPause, Tag("pause")],
    Discriminator(
        _script_item_kind,
        custom_error_type="script_item",
        custom_error_message='each item is a line {"speaker": ..., "text": ...} or a pause {"pause_s": ...}',
    ),
]


class Speaker(_Strict):
    """A script's speaker: the voice and options of every line they say."""

    voice: VoiceInput | None = Field(None, description="Their voice: any voice source or a saved name.")
    tts: VoiceTTSOptions = Field(default_factory=VoiceTTSOptions, description="How they speak (e.g. speed).")


class SynthesisJob(_Strict):
    """A text spoken in one voice, or a script of lines in several voices and pauses; with subtitles."""

    action: Literal["synthesize"] = Field("synthesize", description="The default action.")
    text: str | None = Field(
        None, min_length=1, max_length=MAX_TEXT_CHARS, description="What to say (or give `script`)."
    )
    script: list[ScriptItem] | None = Field(
        None,
        min_length=1,
        max_length=MAX_SCRIPT_ITEMS,
        description="Lines and pauses, said in order as one take (instead of `text`).",
    )
    speakers: dict[SpeakerName, Speaker] | None = Field(
        None, max_length=MAX_SPEAKERS, description="A script's speakers by name, each with a voice."
    )
    language: str = Field(
        "en", pattern=LANGUAGE_CODE, description="Language of the text: picks the alignment model (en, de, fr, …)."
    )
    alignment: AlignmentOptions = Field(default_factory=lambda: AlignmentOptions())
    tts: TTSOptions = Field(default_factory=TTSOptions)
    voice: VoiceInput | None = Field(
        None, description="The reference voice to clone (the f5 engine needs one); a script's default voice."
    )
    audio: AudioOptions = Field(default_factory=AudioOptions)
    subtitles: SubtitleOptions = Field(default_factory=SubtitleOptions)
    output: OutputOptions = Field(default_factory=OutputOptions)

    @field_validator("text")
    @classmethod
    def _has_words(cls, text: str | None) -> str | None:
        return None if text is None else _has_words(text)

    @model_validator(mode="before")
    @classmethod
    def _text_or_script(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        has_text, has_script = data.get("text") is not None, data.get("script") is not None
        if has_text == has_script:  # a null counts as left out
            given = "not both" if has_text else "is required"
            strays = [str(key) for key in data if key not in cls.model_fields] if not has_text else []
            raise InvalidInput("text", f"{given}: give text, or script (a list of lines and pauses){_misspelt(strays)}")
        return data

    @model_validator(mode="after")
    def _script_rules(self) -> SynthesisJob:
        """The cross-field rules, raised as InvalidInput naming the item (`script[3].speaker`)."""
        if self.script is None:
            if self.speakers is not None:
                raise InvalidInput("speakers", "belong to a script: give script instead of text")
            if self.voice is None and self.tts.engine == "f5":
                raise InvalidInput("voice", f"is required by the f5 engine: {CLIP_SOURCES}")
            return self
        lines = [(index, item) for index, item in enumerate(self.script) if isinstance(item, ScriptLine)]
        if not lines:
            raise InvalidInput("script", "has no line to say, only pauses")
        characters = sum(len(line.text) for _, line in lines)
        if characters > MAX_TEXT_CHARS:
            raise InvalidInput("script", f"has {characters:,} characters of text: at most {MAX_TEXT_CHARS:,} a job")
        named = set(self.speakers or {})
        said_by = dict.fromkeys(line.speaker for _, line in lines if line.speaker is not None)
        if len(said_by) > MAX_SPEAKERS:
            raise InvalidInput("script", f"has {len(said_by)} speakers: at most {MAX_SPEAKERS}")
        for index, line in lines:
            if self.speakers is not None and line.speaker not in named:
                known = ", ".join(sorted(named))
                problem = "is required: name one of speakers" if line.speaker is None else "is not in speakers"
                raise InvalidInput(f"script[{index}].speaker", f"{problem} ({known})")
            if self.tts.engine == "f5" and self.voice_of(line) is None:
                raise InvalidInput(f"script[{index}].voice", f"is required by the f5 engine: {CLIP_SOURCES}")
        return self

    def voice_of(self, line: ScriptLine) -> VoiceInput | None:
        """The voice a line is said in: its own, its speaker's, else the job's."""
        speaker = (self.speakers or {}).get(line.speaker or "")
        return line.voice or (speaker.voice if speaker else None) or self.voice

    def voice_field(self, index: int, line: ScriptLine) -> str:
        """Where the job gave the voice of line `index`, for error messages."""
        if line.voice is not None:
            return f"script[{index}].voice"
        speaker = (self.speakers or {}).get(line.speaker or "")
        return f"speakers.{line.speaker}.voice" if speaker and speaker.voice else "voice"


CLIP_SOURCES = "give voice.base64, voice.url, voice.s3_key or voice.name"


def _has_words(text: str) -> str:
    if not text.split():
        raise ValueError("must contain at least one word")
    if all(is_unspoken(word) for word in text.split()):  # "... !!!": nothing a voice says
        raise ValueError("must contain at least one word: punctuation alone is not spoken")
    return text


class RecordingInput(_Strict):
    """The caller's own recording: exactly one source. Up to 2 hours and 500 MiB (base64 is capped by RunPod's
    payload limit: use a URL or s3_key for long recordings)."""

    base64: str | None = Field(None, max_length=MAX_VOICE_BASE64_CHARS, description="The file itself, base64.")
    url: str | None = Field(None, max_length=2048, description="An http(s) URL of the file.")
    s3_key: S3Key | None = Field(None, description="The key of the file in the worker's own bucket.")

    @model_validator(mode="after")
    def _exactly_one_source(self) -> RecordingInput:
        given = [name for name in ("base64", "url", "s3_key") if getattr(self, name)]
        if len(given) != 1:
            raise ValueError(f"give exactly one of base64, url or s3_key (got {', '.join(given) or 'none'})")
        if self.s3_key and ".." in self.s3_key.split("/"):
            raise ValueError("s3_key may not contain '..' parts")
        return self

    def source(self, field: str = "audio") -> VoiceSource:
        return VoiceSource(base64=self.base64, url=self.url, s3_key=self.s3_key, field=field)


class AlignJob(_Strict):
    """The caller's recording and what is said in it → word timings and subtitles, without synthesis."""

    action: Literal["align"]
    audio: RecordingInput
    text: str = Field(..., min_length=1, max_length=MAX_ALIGN_TEXT_CHARS, description="What is said in the recording.")
    language: str = Field("en", pattern=LANGUAGE_CODE, description="Language of the recording and the text.")
    alignment: AlignmentOptions = Field(default_factory=lambda: AlignmentOptions())
    normalize_text: bool = Field(True, description="Numbers, money, dates... are matched as they are said.")
    audio_output: AudioOptions | None = Field(
        None, description="Re-encode the recording for the result; left out, the file is stored as it was sent."
    )
    subtitles: SubtitleOptions = Field(default_factory=SubtitleOptions)
    output: OutputOptions = Field(default_factory=OutputOptions)

    @field_validator("text")
    @classmethod
    def _has_words(cls, text: str) -> str:
        return _has_words(text)


class TranscribeJob(_Strict):
    """The caller's recording → what is said (Whisper), each word timed by the worker's aligner, and subtitles."""

    action: Literal["transcribe"]
    audio: RecordingInput
    language: str | None = Field(
        None, pattern=LANGUAGE_CODE, description="Language spoken; left out, Whisper detects it."
    )
    alignment: AlignmentOptions = Field(default_factory=lambda: AlignmentOptions())
    audio_output: AudioOptions | None = Field(
        None, description="Re-encode the recording for the result; left out, the file is stored as it was sent."
    )
    subtitles: SubtitleOptions = Field(default_factory=SubtitleOptions)
    output: OutputOptions = Field(default_factory=OutputOptions)


class VoiceSaveJob(_Strict):
    """Save a reference voice under a name, for later jobs' `voice.name`."""

    action: Literal["voice.save"]
    name: VoiceName
    voice: VoiceInput = Field(
        ..., description="The clip (base64, url or s3_key) and its transcript; without one it is transcribed now."
    )
    language: str = Field(
        "en", pattern=LANGUAGE_CODE, description="Language spoken in the clip: for cutting and transcribing it."
    )

    @field_validator("voice")
    @classmethod
    def _a_clip(cls, voice: VoiceInput) -> VoiceInput:
        if voice.name or voice.espeak:
            raise ValueError("give the clip itself (base64, url or s3_key), not a saved or eSpeak NG voice")
        if voice.language:
            raise ValueError("give the clip's language in the job's language field, not in voice.language")
        return voice


class VoiceListJob(_Strict):
    """List the saved voices."""

    action: Literal["voice.list"]


class VoiceDeleteJob(_Strict):
    """Delete a saved voice."""

    action: Literal["voice.delete"]
    name: VoiceName


Job = SynthesisJob | AlignJob | TranscribeJob | VoiceSaveJob | VoiceListJob | VoiceDeleteJob
JOB_ACTIONS: dict[str, type[Job]] = {
    "synthesize": SynthesisJob,
    "align": AlignJob,
    "transcribe": TranscribeJob,
    "voice.save": VoiceSaveJob,
    "voice.list": VoiceListJob,
    "voice.delete": VoiceDeleteJob,
}


def parse_job(raw_input: Any) -> Job:
    """Validate a job's `input`. Raises InvalidInput naming the first bad field and what it accepts."""
    if not isinstance(raw_input, dict):
        raise InvalidInput("input", f"must be a JSON object, got {type(raw_input).__name__}")
    action = raw_input.get("action", "synthesize")
    if not isinstance(action, str) or action not in JOB_ACTIONS:
        raise InvalidInput("action", f"use one of {', '.join(JOB_ACTIONS)}")
    try:
        return JOB_ACTIONS[action].model_validate(raw_input)
    except ValidationError as error:
        errors = error.errors(include_url=False)
        first = errors[0]
        location = list(first["loc"])
        if first["type"] == "extra_forbidden":
            # The last part is the caller's own key: quote it, and name the object it was found in.
            unknown = str(location.pop())
            hint = " (see the job contract in the README)"
            if action == "transcribe" and location == [] and unknown == "text":
                hint = ": transcribe finds the text itself; to time a text you have, use action align"
            raise InvalidInput(_field_name(location), f"unknown field {_shown(unknown)!r}{hint}") from None
        explained = _explain(first)
        if first["type"] == "missing":  # a misspelt field is both missing and unknown: say which key it may be
            strays = [
                str(other["loc"][-1])
                for other in errors
                if other["type"] == "extra_forbidden" and list(other["loc"][:-1]) == location[:-1]
            ]
            explained += _misspelt(strays)
        raise InvalidInput(_field_name(location), explained) from None


def _shown(key: str) -> str:
    return key if len(key) <= 40 else key[:40] + "…"


def _misspelt(strays: Sequence[str]) -> str:
    """A note on the unknown keys beside a missing field: one of them is likely the field, misspelt."""
    if not strays:
        return ""
    named = " and ".join(repr(_shown(key)) for key in strays[:3])
    return f" ({named} {'is not a field' if len(strays) == 1 else 'are not fields'}: misspelt?)"


def _field_name(location: Sequence[int | str]) -> str:
    """A pydantic error location as the caller wrote the field: `script[3].voice.url`, without the script item's
    kind (a tag pydantic adds after the index)."""
    name = ""
    for position, part in enumerate(location):
        if isinstance(part, int):
            name += f"[{part}]"
        elif not (position and isinstance(location[position - 1], int) and part in ("line", "pause")):
            name += f".{part}" if name else part
    return name or "input"


def _explain(error: Any) -> str:
    kind = error["type"]
    if kind == "missing":
        return "is required"
    pattern = error.get("ctx", {}).get("pattern")
    if kind == "string_pattern_mismatch" and pattern == LANGUAGE_CODE:
        return "use a language code of two or three lowercase letters, such as en, zh or de"
    if kind == "string_pattern_mismatch" and pattern in NAME_RULES:
        return f"{NAME_RULES[pattern]}, got {_shown(str(error.get('input')))!r}"
    if kind in ("tuple_type", "list_type"):
        return "must be a list (a JSON array: [...])"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


# --- The result a successful job returns (the `output` of a COMPLETED job). ---


class StoredFile(_Strict):
    url: str = Field(..., description="Presigned S3 URL, public URL, or file:// path for local output.")
    key: str = Field(..., description="Object key in the bucket (or path under the output folder).")
    text: str | None = Field(None, description="Inline results: a subtitle file's text.")
    base64: str | None = Field(None, description="Inline results: a binary file's bytes, base64.")

    @classmethod
    def of(cls, stored: StoredObject) -> StoredFile:
        return cls(url=stored.url, key=stored.key)


class AudioResult(StoredFile):
    format: str = Field(
        ..., description="wav, mp3, flac, ogg or opus; a recording stored as sent: also m4a or webm (its extension)."
    )
    sample_rate_hz: int = Field(..., description="Sample rate of the file as written.")
    duration_s: float = Field(..., description="Length of the speech.")
    bytes: int = Field(..., description="Size of the file.")
    sha256: str = Field(..., description="SHA-256 of the file, also stored in the object's metadata.")

    @classmethod
    def of_audio(cls, written: AudioFile, stored: StoredObject, duration_s: float) -> AudioResult:
        return cls(
            url=stored.url,
            key=stored.key,
            format=written.format,
            sample_rate_hz=written.sample_rate_hz,
            duration_s=round(duration_s, 3),
            bytes=stored.bytes,
            sha256=stored.sha256,
        )


class VideoResult(StoredFile):
    bytes: int
    sha256: str
    duration_s: float
    resolution: tuple[int, int]
    fps: int
    encoder: str = Field(..., description="h264_nvenc on a GPU that has it, else libx264.")


class CharResult(_Strict):
    text: str
    start_s: float
    end_s: float
    score: float

    @classmethod
    def of(cls, char: AlignedChar) -> CharResult:
        return cls(
            text=char.text, start_s=round(char.start_s, 3), end_s=round(char.end_s, 3), score=round(char.score, 3)
        )


class WordResult(_Strict):
    text: str = Field(..., description="The word as written in the request, punctuation attached.")
    start_s: float
    end_s: float
    score: float | None = Field(..., description="Alignment confidence 0..1; null when interpolated.")
    interpolated: bool = Field(..., description="True when the aligner could not place the word.")
    speaker: str | None = Field(None, description="Who says it (scripts); null for a text job.")
    chars: list[CharResult] | None = Field(None, description="Character timings, when `alignment.characters`.")

    @classmethod
    def of(cls, word: AlignedWord, speaker: str | None = None) -> WordResult:
        return cls(
            text=word.text,
            start_s=round(word.start_s, 3),
            end_s=round(word.end_s, 3),
            score=None if word.score is None else round(word.score, 3),
            interpolated=word.interpolated,
            speaker=speaker,
            chars=None if word.chars is None else [CharResult.of(char) for char in word.chars],
        )


class SegmentResult(_Strict):
    text: str = Field(
        ...,
        description="One chunk of text generated in one model call (align and transcribe: one "
        "piece of the recording, with the text found in it).",
    )
    start_s: float
    end_s: float
    speaker: str | None = Field(None, description="Who says it (scripts); null for a text job.")

    @classmethod
    def of(cls, chunk: ChunkSpan, rate_hz: int, speaker: str | None = None) -> SegmentResult:
        return cls(
            text=unspaced(chunk.text),
            start_s=round(chunk.start_sample / rate_hz, 3),
            end_s=round(chunk.end_sample / rate_hz, 3),
            speaker=speaker,
        )


class LineResult(_Strict):
    """One line of the take as its own files (`output.split: "lines"`)."""

    index: int = Field(..., description="The line's position in `script` (0 for a text job).")
    speaker: str | None
    text: str = Field(..., description="The line as written, <break> tags left out.")
    start_s: float = Field(..., description="Where the line starts in the whole take.")
    end_s: float
    audio: AudioResult
    subtitles: dict[SubtitleFormat, StoredFile] = Field(..., description="Timed from the line's own start.")

    @classmethod
    def of(
        cls,
        *,
        index: int,
        speaker: str | None,
        text: str,
        start_s: float,
        end_s: float,
        audio: AudioFile,
        stored_audio: StoredObject,
        stored_subtitles: Mapping[SubtitleFormat, StoredObject],
    ) -> LineResult:
        return cls(
            index=index,
            speaker=speaker,
            text=text,
            start_s=round(start_s, 3),
            end_s=round(end_s, 3),
            audio=AudioResult.of_audio(audio, stored_audio, end_s - start_s),
            subtitles={kind: StoredFile.of(stored) for kind, stored in stored_subtitles.items()},
        )


class AlignmentSummary(_Strict):
    mean_score: float | None
    interpolated_words: int

    @classmethod
    def of(cls, words: Sequence[AlignedWord]) -> AlignmentSummary:
        scores = [word.score for word in words if word.score is not None]
        return cls(
            mean_score=round(sum(scores) / len(scores), 3) if scores else None,
            interpolated_words=sum(word.interpolated for word in words),
        )


class ModelNames(_Strict):
    tts: str = Field(..., description="The engine that spoke (none for align and transcribe jobs).")
    aligner: str
    storage: str
    asr: str | None = Field(
        None, description="The speech recognition model of a transcribe job, or that transcribed a voice clip."
    )


class SynthesisResult(_Strict):
    audio: AudioResult
    subtitles: dict[SubtitleFormat, StoredFile]
    words: list[WordResult]
    segments: list[SegmentResult]
    text: str = Field(..., description="The text as spoken (whitespace normalized).")
    language: str
    seed: int | None = Field(..., description="The seed used; send it back to reproduce the audio (synthesis).")
    alignment: AlignmentSummary
    models: ModelNames
    timings_s: dict[str, float] = Field(..., description="Seconds per stage, and the total.")
    warnings: list[str]
    lines: list[LineResult] | None = Field(None, description="Each line's own files, with `output.split: lines`.")
    video: VideoResult | None = Field(None, description="The MP4, with `output.video`.")
    poster: StoredFile | None = Field(None, description="A PNG frame of the video, in the middle of the first cue.")

    @classmethod
    def of(
        cls,
        *,
        speech: Speech,
        words: Sequence[AlignedWord],
        word_speakers: Sequence[str | None],
        chunk_speakers: Sequence[str | None],
        audio: AudioFile,
        stored_audio: StoredObject,
        stored_subtitles: Mapping[SubtitleFormat, StoredObject],
        lines: list[LineResult] | None,
        language: str,
        seed: int,
        models: ModelNames,
        timings_s: dict[str, float],
        warnings: list[str],
    ) -> SynthesisResult:
        """The result of a finished take, from what each stage produced."""
        return cls(
            audio=AudioResult.of_audio(audio, stored_audio, speech.duration_s),
            subtitles={kind: StoredFile.of(stored) for kind, stored in stored_subtitles.items()},
            words=[WordResult.of(word, speaker) for word, speaker in zip(words, word_speakers, strict=True)],
            segments=[
                SegmentResult.of(chunk, speech.sample_rate_hz, speaker)
                for chunk, speaker in zip(speech.chunks, chunk_speakers, strict=True)
            ],
            text=unspaced(" ".join(chunk.text for chunk in speech.chunks)),  # as spoken, whitespace normalised
            language=language,
            seed=seed,
            alignment=AlignmentSummary.of(words),
            models=models,
            timings_s=timings_s,
            warnings=warnings,
            lines=lines,
        )
