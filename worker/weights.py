"""Model weights on the volume: fetched once from the hub, published atomically, then used offline.

    python -m worker.weights          (the bootstrap runs this inside the built environment)

Each model is downloaded into a private temporary folder next to its place and renamed into place when
complete, so a worker never loads a half-downloaded model. Of two workers fetching at once, the first to finish
publishes; the other finds a complete folder in place and discards its own copy, so a published folder is never
removed under a worker loading from it.
With `HF_HUB_OFFLINE=1` (or no network) and a model missing, one error lists what is missing and how to put it
there.
"""

from __future__ import annotations

import functools
import os
import shutil
import sys
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from worker.settings import F5_RELEASES, Settings, runpod_volume_mounted
from worker.startup import ASR_REQUIRED_FILES, missing_models

# (repository, file in the repository, destination path); raises FileNotFoundError if the repository lacks it.
Download = Callable[[str, str, Path], None]

ALIGN_FILES = (
    "config.json",
    "preprocessor_config.json",
    "special_tokens_map.json",
    "tokenizer_config.json",
    "vocab.json",
)
ALIGN_WEIGHTS = ("model.safetensors", "pytorch_model.bin")  # the first one the repository has
ASR_VOCABULARY = ("vocabulary.json", "vocabulary.txt")  # newer conversions have the first, older the second
ASR_PREPROCESSOR = "preprocessor_config.json"  # large-v3 models need it (128 mel bins); older ones have none


@dataclass(frozen=True)
class RepoFile:
    """One file to fetch: the first of `names` the repository has, saved as `saved_as` (default: its name)."""

    repo: str
    names: tuple[str, ...]
    saved_as: str | None = None
    required: bool = True


@dataclass(frozen=True)
class ModelSource:
    """Where each model comes from; every id and file name is a setting."""

    f5_repo: str
    f5_checkpoint: str
    f5_vocab: str
    vocos_repo: str
    align_repos: Mapping[str, str]
    asr_repo: str | None = None

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str] | None = None,
        languages: tuple[str, ...] = ("en",),
        asr_model: str | None = "large-v3-turbo",
    ) -> ModelSource:
        """`languages` and `asr_model` as the worker's Settings read them."""
        env = os.environ if env is None else env
        return cls(
            f5_repo=env.get("F5_REPO", F5_RELEASES),
            f5_checkpoint=env.get("F5_CHECKPOINT_FILE", "F5TTS_v1_Base/model_1250000.safetensors"),
            f5_vocab=env.get("F5_VOCAB_FILE", "F5TTS_v1_Base/vocab.txt"),
            vocos_repo=env.get("VOCOS_REPO", "charactr/vocos-mel-24khz"),
            align_repos={
                language: env.get(f"ALIGN_MODEL_{language.upper()}") or default_align_model(language)
                for language in languages
            },
            asr_repo=None if asr_model is None else asr_repository(asr_model),
        )


class WeightsMissing(Exception):
    pass


def default_align_model(language: str) -> str:
    """WhisperX's table of wav2vec2 CTC models; English uses the Hugging Face copy of its torchaudio default."""
    if language == "en":
        return "facebook/wav2vec2-base-960h"
    from whisperx.alignment import DEFAULT_ALIGN_MODELS_HF

    if language not in DEFAULT_ALIGN_MODELS_HF:
        raise WeightsMissing(
            f"no default alignment model for language {language!r}: set ALIGN_MODEL_{language.upper()} to a "
            "Hugging Face wav2vec2 CTC model for it, or remove it from WORKER_ALIGN_LANGUAGES"
        )
    return str(DEFAULT_ALIGN_MODELS_HF[language])


def asr_repository(model: str) -> str:
    """A faster-whisper size names its repository in faster-whisper's own table; anything else is a hub id."""
    if "/" in model:
        return model
    from faster_whisper.utils import _MODELS

    if model not in _MODELS:
        raise WeightsMissing(f"WORKER_ASR_MODEL={model!r} is not a faster-whisper size ({', '.join(_MODELS)})")
    return str(_MODELS[model])


def ensure_weights(settings: Settings, source: ModelSource, download: Download, offline: bool) -> list[Path]:
    """Fetch every missing model folder; returns the folders published. Raises WeightsMissing when offline."""
    layout = settings.layout
    missing = missing_models(settings)
    if not missing:
        return []
    if offline:
        listed = "\n  ".join(str(path) for path in missing)
        raise WeightsMissing(
            f"model files are missing and HF_HUB_OFFLINE is set, so they cannot be fetched:\n  {listed}\n"
            "Unset HF_HUB_OFFLINE on a machine that reaches huggingface.co, or copy the files into place "
            "(README: pre-seeding the weights)."
        )
    ckpt_name = "model" + Path(source.f5_checkpoint).suffix
    plan: list[tuple[Path, list[RepoFile]]] = [
        (
            layout.f5_dir(settings.f5_model),
            [
                RepoFile(source.f5_repo, (source.f5_checkpoint,), saved_as=ckpt_name),
                RepoFile(source.f5_repo, (source.f5_vocab,), saved_as="vocab.txt"),
            ],
        ),
        (layout.vocos_dir, [RepoFile(source.vocos_repo, (name,)) for name in ("config.yaml", "pytorch_model.bin")]),
    ]
    for language, repo in source.align_repos.items():
        align = [RepoFile(repo, (name,)) for name in ALIGN_FILES]
        plan.append((layout.align_dir(language), [*align, RepoFile(repo, ALIGN_WEIGHTS)]))
    if settings.asr_model is not None and source.asr_repo is not None:
        repo = source.asr_repo
        asr = [RepoFile(repo, (name,)) for name in ASR_REQUIRED_FILES]
        asr += [RepoFile(repo, ASR_VOCABULARY), RepoFile(repo, (ASR_PREPROCESSOR,), required=False)]
        plan.append((layout.asr_dir(settings.asr_model), asr))
    published = []
    for folder, files in plan:
        if not any(path.is_relative_to(folder) for path in missing):
            continue
        complete = functools.partial(_holds_all, files=files)
        if complete(folder):  # another worker published it while this one fetched the folders before it
            continue
        if _publish_folder(folder, functools.partial(_fetch_all, files, download=download), complete):
            published.append(folder)
    return published


def _fetch_all(files: list[RepoFile], staging: Path, download: Download) -> None:
    for file in files:
        for name in file.names:
            try:
                download(file.repo, name, staging / (file.saved_as or Path(name).name))
                break
            except FileNotFoundError:
                continue
        else:
            if file.required:
                raise FileNotFoundError(f"{file.repo} has none of {', '.join(file.names)}")


def _holds_all(folder: Path, files: list[RepoFile]) -> bool:
    """Whether `folder` holds every required file of the list: a folder a fetch published, or a complete copy."""
    return all(
        any((folder / (file.saved_as or Path(name).name)).is_file() for name in file.names)
        for file in files
        if file.required
    )


def _publish_folder(folder: Path, fill: Callable[[Path], None], complete: Callable[[Path], bool]) -> bool:
    """Fill a private folder and rename it into place; whether this call's copy is the one published.

    A complete folder in place is never removed, as other workers may be loading from it: the worker that finishes
    second discards its own copy. Only an incomplete folder (a partial copy by hand) is moved aside first.
    """
    folder.parent.mkdir(parents=True, exist_ok=True)
    staging = folder.with_name(f".tmp-{folder.name}-{uuid.uuid4().hex[:8]}")
    staging.mkdir()
    try:
        fill(staging)
        if complete(folder):
            return False
        _move_incomplete_aside(folder, complete)
        try:
            staging.rename(folder)  # atomic: a reader sees no folder or a complete one
        except OSError:
            if not complete(folder):
                raise
            return False  # another worker published it first: theirs stays
        return True
    finally:
        if staging.exists():
            shutil.rmtree(staging, ignore_errors=True)


def _move_incomplete_aside(folder: Path, complete: Callable[[Path], bool]) -> None:
    """Remove the incomplete folder in the way, if any; one published in the meantime goes back into place."""
    trash = folder.with_name(f".trash-{folder.name}-{uuid.uuid4().hex[:8]}")
    try:
        folder.rename(trash)
    except FileNotFoundError:
        return
    if complete(trash):
        # Another worker published it between the check and the move: put it back, unless a copy is in place.
        try:
            trash.rename(folder)
            return
        except OSError:
            pass
    shutil.rmtree(trash, ignore_errors=True)


def hub_download(repo: str, name_in_repo: str, destination: Path) -> None:
    """Download one file from the Hugging Face hub to `destination`."""
    from huggingface_hub import constants, hf_hub_download
    from huggingface_hub.errors import EntryNotFoundError, LocalEntryNotFoundError

    cache = destination.parent / ".hf-cache"  # inside the private folder being filled: removed whatever happens
    try:
        cached = hf_hub_download(repo_id=repo, filename=name_in_repo, cache_dir=str(cache))
        # The cache's snapshot entry links to the downloaded blob on the same disk: move it rather than copy it,
        # which would write every checkpoint to the volume twice.
        Path(cached).resolve().replace(destination)
    except LocalEntryNotFoundError as error:  # a subclass of the one below: the hub could not be asked at all
        cause = error.__cause__ or error
        raise ConnectionError(
            f"the hub at {constants.ENDPOINT} could not be asked for {repo}/{name_in_repo} "
            f"({type(cause).__name__}): check the worker's network, or copy the files into place "
            "(README: pre-seeding the weights)"
        ) from None
    except EntryNotFoundError:
        raise FileNotFoundError(f"{repo} has no {name_in_repo}") from None
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def main() -> int:
    from bootstrap.weights_marker import weights_marker
    from worker.logs import install_redaction

    # What this step prints goes straight to the worker's log: a hub error can quote HF_ENDPOINT (which may carry
    # user:token@) or a token.
    install_redaction(os.environ.get(name, "") for name in ("HF_TOKEN", "HUGGING_FACE_HUB_TOKEN"))
    offline = os.environ.get("HF_HUB_OFFLINE", "").lower() in ("1", "true", "yes")
    try:
        settings = Settings.from_env(os.environ, runpod_volume_mounted())
        source = ModelSource.from_env(languages=settings.align_languages, asr_model=settings.asr_model)
        published = ensure_weights(settings, source, hub_download, offline)
    except WeightsMissing as error:
        print(f"weights: {error}", file=sys.stderr)
        return 4
    except Exception as error:  # network, hub or disk: say which, and what was being fetched
        print(f"weights: fetching failed ({type(error).__name__}: {error})", file=sys.stderr)
        return 4
    for folder in published:
        print(f"weights: published {folder}")
    # The bootstrap skips this whole step while the marker for these model settings exists.
    weights_marker(settings.layout.models_dir, os.environ).touch()
    return 0


if __name__ == "__main__":
    sys.exit(main())
