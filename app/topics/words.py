"""Shared vocabulary of the topic words: stop and generic word lists, the punctuation pattern, the stemmer.

Both the phrase counting (`phrases`) and the naming rules (`labeling`) read these, so they live below
both. Pure: strings in, strings out.
"""

from __future__ import annotations

import re
from functools import lru_cache

# scikit-learn's English stop words (`sklearn.feature_extraction.text.ENGLISH_STOP_WORDS`), written
# out: importing scikit-learn for this list alone cost about 2 s of every `papertrend topics build`
# (tests/topics/test_labeling.py checks that the two lists stay the same).
ENGLISH_STOP_WORDS: frozenset[str] = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also although always
    am among amongst amoungst amount an and another any anyhow anyone anything anyway anywhere are around as
    at back be became because become becomes becoming been before beforehand behind being below beside
    besides between beyond bill both bottom but by call can cannot cant co con could couldnt cry de describe
    detail do done down due during each eg eight either eleven else elsewhere empty enough etc even ever
    every everyone everything everywhere except few fifteen fifty fill find fire first five for former
    formerly forty found four from front full further get give go had has hasnt have he hence her here
    hereafter hereby herein hereupon hers herself him himself his how however hundred i ie if in inc indeed
    interest into is it its itself keep last latter latterly least less ltd made many may me meanwhile might
    mill mine more moreover most mostly move much must my myself name namely neither never nevertheless next
    nine no nobody none noone nor not nothing now nowhere of off often on once one only onto or other others
    otherwise our ours ourselves out over own part per perhaps please put rather re same see seem seemed
    seeming seems serious several she should show side since sincere six sixty so some somehow someone
    something sometime sometimes somewhere still such system take ten than that the their them themselves
    then thence there thereafter thereby therefore therein thereupon these they thick thin third this those
    though three through throughout thru thus to together too top toward towards twelve twenty two un under
    until up upon us very via was we well were what whatever when whence whenever where whereafter whereas
    whereby wherein whereupon wherever whether which while whither who whoever whole whom whose why will
    with within without would yet you your yours yourself yourselves
    """.split()  # noqa: SIM905
)

# Words that end a phrase: function words, plus the verbs and fillers that open arXiv titles
# ("Towards ...", "Rethinking ...") and would otherwise glue themselves onto real key phrases.
STOP_WORDS: frozenset[str] = ENGLISH_STOP_WORDS | {
    "via", "using", "use", "uses", "used", "based", "towards", "toward", "vs", "versus", "new", "novel",
    "improved", "improving", "improve", "improves", "enhanced", "enhancing", "enhance", "enhances",
    "boosting", "boost", "rethinking", "revisiting", "exploring", "leveraging", "unleashing", "harnessing",
    "empowering", "unlocking", "bridging", "introducing", "making", "make", "let", "lets", "does", "doing",
    "need", "really", "matters", "matter", "simple", "simply", "better", "good", "best", "beyond", "tale",
    "short", "lessons", "insights", "free", "lunch", "leap", "forward", "et", "al", "i.e", "e.g",
    "propose", "proposed", "proposes", "present", "presents", "paper", "work", "show", "shows", "achieve",
    "achieves", "demonstrate", "demonstrates", "significantly", "existing", "recent", "various", "specific",
    "respectively", "including", "different", "effectively", "extensive", "experiments", "available",
}  # fmt: skip

# Words too broad to be a phrase on their own. A phrase made only of these ("large language model",
# "neural network", "deep learning") is never a keyword or a label, but it may sit inside one
# ("representation learning", "graph neural network").
GENERIC_WORDS: frozenset[str] = frozenset(
    """model method approach framework learning network neural deep large language data task system
    analysis study result performance benchmark dataset evaluation training efficient effective robust
    multi scale scaling general problem application design algorithm technique tool llm vlm mllm lm ai
    machine artificial intelligence survey review comprehensive base information feature structure
    process accuracy high low computation power generation sample text image stage step level contextual
    aware guided driven fine-grained end-to-end real-world real world state-of-the-art sota unified
    adaptive dynamic hierarchical hybrid scalable automated automatic lightweight diverse towards
    large-scale small open multimodal visual semantic human understanding challenge report""".split()  # noqa: SIM905
)

# Word tokens keep their hyphens ("low-bit", "retrieval-augmented"); any other punctuation becomes a
# "." token that ends a phrase (":" in "ZeroQuant-FP: A Leap ...", "." in "LLM.int8()"). Substitute and
# split is the fastest tokeniser in pure Python (about 1 s for 25k abstracts on one core).
_PUNCT = re.compile(r"[^\w\s-]+")
_SMALL_WORDS = frozenset({"and", "or", "of", "for", "in", "on", "with", "the", "a", "an", "to", "via"})


# Suffix rules by last letter: (suffix, replacement, shortest stem that may remain). "-iz" rules end
# the stemming; the others are followed by the clean-up below.
_SUFFIXES: dict[str, tuple[tuple[str, str, int], ...]] = {
    "n": (("ization", "iz", 3), ("isation", "iz", 3), ("ation", "", 4), ("tion", "t", 3), ("sion", "s", 3)),
    "g": (("izing", "iz", 3), ("ing", "", 4)),
    "d": (("ized", "iz", 3), ("ed", "", 4)),
    "r": (("izer", "iz", 3),),
    "e": (("ize", "iz", 3), ("ive", "", 4), ("e", "", 4)),
}


@lru_cache(maxsize=1 << 18)
def stem(word: str) -> str:
    """Light, deterministic stemmer: "quantization"/"quantized"/"quantizing" -> "quantiz".

    Porter would merge too much ("transformer"/"transform") and is not a dependency; a dozen suffix
    rules group the inflections that matter for phrase counting.
    """
    w = word.lower().replace("-", "")  # "fine-tuning" and "finetuning" share a key
    if len(w) <= 3 or not w.isalpha():
        return w
    if w[-1] == "s":
        if w.endswith("ies") and len(w) > 4:
            w = w[:-3] + "y"
        elif w[-2] not in "suia":  # "process", "focus", "analysis", "bias" keep their s
            w = w[:-1]
    for suffix, repl, keep in _SUFFIXES.get(w[-1], ()):
        if w.endswith(suffix) and len(w) - len(suffix) >= keep:
            w = w[: -len(suffix)] + repl
            if repl == "iz":
                return w
            break
    else:
        return w
    if len(w) >= 2 and w[-1] == w[-2] and w[-1] not in "aeious":
        w = w[:-1]  # "embedd" -> "embed", "plann" -> "plan"; "compress" keeps its "ss"
    if w.endswith("at") and len(w) >= 7:
        w = w[:-2]  # "generat(ion|ive|e)" -> "gener", "evaluat" -> "evalu"
    return w


# Single words a research field uses alone as the name of what it follows. Any other single word is
# an ordinary word ("Bias", "Memory", "Codes", "Motion", "3D") and never a label on its own: a label is
# then the phrase titles complete it with ("KV Cache", "Motion Generation"). Acronyms and names written
# with inner capitals (LoRA, NeRF, RLHF) are names too (`labeling.label_ok`).
FIELD_WORDS: frozenset[str] = frozenset(
    """quantization pruning sparsity distillation robotics interpretability explainability watermarking
    steganography cryptography summarization jailbreaking jailbreaks jailbreak unlearning
    segmentation tokenization forecasting recommendation hallucination hallucinations
    bioinformatics genomics proteomics cheminformatics radiology pathology histopathology
    astrophysics epidemiology fairness privacy cybersecurity blockchain typography
    superresolution super-resolution denoising deblurring dehazing inpainting colorization
    reranking captioning
    """.split()  # noqa: SIM905
)
