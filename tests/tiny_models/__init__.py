"""Tiny random models built in code for the tests and the benchmarks (never shipped in the wheel, never used for a
user's poster or copy): `qwen_image` (a Qwen-Image diffusers pipeline), `chat` (a Qwen2 chat model taught one answer)."""
