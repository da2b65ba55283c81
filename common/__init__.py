"""Leaf modules that any layer may import and that import no stage: the error tree (`common.errors`), ffmpeg
audio I/O (`common.ffmpeg`), signal helpers shared by the voice, speech and audio stages (`common.dsp`) and the
GPU memory helpers (`common.gpu`)."""
