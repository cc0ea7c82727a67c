"""Motion creatives: a poster's recorded layers animated into a short silent clip for video channels.

timeline.py  when each block enters and how (reading order, the rate as the hero beat, the button last)
frames.py    frames composed from cached sprites and the key visual's depth planes (parallax), no re-typesetting
(export/video_creative.py: one video creative: compose once, animate, encode, check, write — a bundle step)
i2v.py       optional: the key visual animated by a diffusers image-to-video pipeline on CUDA"""
