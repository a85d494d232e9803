"""Concepts researchers follow, for the concept benchmark: how a title names each, how a label names it.

Each concept has three lowercase regular expressions: `title` (a paper whose title matches is about the
concept for recall), `label` (a topic whose label matches names the concept) and `about` (a paper whose
title or abstract matches is about it, for precision; the title pattern when not given). The first 30
are the list the product was specified with; the rest were added to check the method beyond that list.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class Concept:
    name: str
    title: str
    label: str
    about: str = ""

    def title_re(self) -> re.Pattern[str]:
        return re.compile(self.title)

    def label_re(self) -> re.Pattern[str]:
        return re.compile(self.label)

    def about_re(self) -> re.Pattern[str]:
        return re.compile(self.about or self.title)


SPECIFIED = [
    Concept("quantization", r"quantiz", r"quantiz", r"quantiz|low-bit|\bint[248]\b|bit-width"),
    Concept("pruning/sparsity", r"prun|sparsit", r"prun|sparsi", r"prun|sparsi|sparse"),
    Concept(
        "representation learning", r"representation learning", r"representation learning", r"representation"
    ),
    Concept(
        "mixture of experts",
        r"mixture[- ]of[- ]experts|\bmoe\b",
        r"mixture[- ]of[- ]experts|\bmoe\b",
        r"mixture[- ]of[- ]experts|\bmoe\b|expert",
    ),
    Concept("knowledge distillation", r"distill", r"distill", r"distill"),
    Concept("federated learning", r"federated", r"federated", r"federated"),
    Concept("graph neural networks", r"graph neural|\bgnns?\b", r"graph neural|\bgnn", r"graph"),
    Concept("time series", r"time[- ]series", r"time[- ]series", r"time[- ]series|forecast"),
    Concept("recommender systems", r"recommend", r"recommend", r"recommend"),
    Concept(
        "code generation",
        # "coding" alone is mostly video, source or ICD coding: only the coding of programs counts.
        r"code generation|program synthesis|\bcode (llms?|models?|agents?)\b"
        r"|\bcoding (agents?|assistants?|llms?)\b",
        r"code generation|program synthesis|\bcode\b|coding agents?",
        r"\bcode\b|coding|program",
    ),
    Concept("speculative decoding", r"speculative", r"speculative", r"speculative|draft"),
    Concept(
        "continual learning",
        r"continual|lifelong|incremental learning",
        r"continual|lifelong|incremental",
        r"continual|lifelong|incremental|forgetting",
    ),
    Concept("contrastive learning", r"contrastive", r"contrastive", r"contrastive"),
    Concept("diffusion models", r"diffusion", r"diffusion", r"diffusion|denois"),
    Concept(
        "neural radiance fields",
        r"radiance field|\bnerfs?\b",
        r"radiance field|\bnerf",
        r"radiance|\bnerf|neural render|novel view|gaussian splat",
    ),
    Concept("object detection", r"object detection|detector", r"object detection|detect", r"detect"),
    Concept("semantic segmentation", r"semantic segmentation", r"segmentation", r"segment"),
    # Not LaTeX in a title ("$\mathcal{B}$-Net"), nor "aftermath".
    Concept("mathematical reasoning", r"(?<!\\)\bmath", r"\bmath", r"(?<!\\)\bmath"),
    Concept(
        "multilingual models",
        r"multilingual|cross-lingual",
        r"multilingual|cross-lingual",
        r"multilingual|cross-lingual|languages",
    ),
    Concept("emotion recognition", r"\bemotion", r"\bemotion", r"\bemotion|affective"),
    Concept(
        "remote sensing",
        r"remote sensing|satellite",
        r"remote sensing|satellite",
        r"remote sensing|satellite|aerial|earth observation",
    ),
    Concept(
        "robot manipulation",
        # Not image, media or mental manipulation: what a robot's hands do.
        r"(robot\w*|dexterous|bimanual|object|mobile|embodied)[- ]manipulation"
        r"|loco-manipulation|robotic grasp",
        r"manipulation|robot",
        r"manipulat|robot|grasp",
    ),
    Concept("KV cache", r"kv[- ]cache|key-value cache", r"kv[- ]cache|key-value", r"\bkv\b|key-value|cache"),
    Concept(
        "interpretability",
        r"interpretab|explainab",
        r"interpretab|explainab",
        r"interpretab|explainab|explanation|mechanistic",
    ),
    Concept("jailbreaks", r"jailbreak", r"jailbreak", r"jailbreak|attack|safety"),
    Concept("watermarking", r"watermark", r"watermark", r"watermark"),
    Concept(
        "text-to-image generation",
        r"text-to-image",
        r"text-to-image|image generation",
        r"text-to-image|image generation|image synthesis",
    ),
    Concept(
        "video generation",
        r"video generation",
        r"video generation",
        r"video generation|video diffusion|video synthesis|generat",
    ),
    Concept("pose estimation", r"pose estimation", r"pose", r"pose"),
    Concept("anomaly detection", r"anomal", r"anomal", r"anomal|outlier|fault"),
]

ADDED = [
    Concept(
        "LoRA / parameter-efficient fine-tuning",
        r"\blora\b|low-rank adaptation|parameter-efficient",
        r"lora|parameter-efficient|low-rank adaptation",
        r"lora|low-rank|parameter-efficient|adapter",
    ),
    Concept(
        "retrieval-augmented generation",
        r"retrieval-augmented|\brag\b",
        r"retrieval-augmented|\brag\b",
        r"retriev|\brag\b",
    ),
    Concept(
        "Gaussian splatting", r"gaussian splatting|\b3dgs\b", r"gaussian splatting|3dgs", r"gaussian|splat"
    ),
    Concept("machine translation", r"translation", r"translation", r"translat"),
    Concept(
        "speech recognition",
        r"speech recognition|\basr\b",
        r"speech recognition|\basr\b|speech",
        r"speech|\basr\b|audio",
    ),
    Concept("LLM agents", r"\bagents?\b|agentic", r"agent", r"agent"),
    Concept("autonomous driving", r"autonomous driving|self-driving", r"driving", r"driving|vehicle|traffic"),
    Concept("hallucination", r"hallucinat", r"hallucinat", r"hallucinat|factual"),
    Concept(
        "question answering",
        r"question answering|\bqa\b",
        r"question answering|\bqa\b",
        r"question|answer|\bqa\b",
    ),
    Concept(
        "state space models", r"\bmamba\b|state[- ]space", r"mamba|state[- ]space", r"mamba|state[- ]space"
    ),
    Concept("adversarial attacks", r"adversarial", r"adversarial", r"adversarial|attack|robust"),
    Concept("sentiment analysis", r"sentiment", r"sentiment", r"sentiment|opinion|emotion"),
    Concept(
        "trajectory prediction",
        r"trajectory prediction|trajectory forecasting",
        r"trajectory",
        r"trajector|motion|forecast",
    ),
    Concept("point clouds", r"point cloud", r"point cloud", r"point cloud|lidar|3d"),
    Concept("depth estimation", r"depth estimation", r"depth", r"depth"),
    Concept("in-context learning", r"in-context learning", r"in-context", r"in-context"),
    Concept(
        "text-to-speech",
        r"text-to-speech|\btts\b|speech synthesis",
        r"text-to-speech|tts|speech synthesis|speech",
        r"speech|tts|voice|audio",
    ),
    Concept("super-resolution", r"super-resolution", r"super-resolution", r"resolution|restor"),
]

CONCEPTS = SPECIFIED + ADDED
