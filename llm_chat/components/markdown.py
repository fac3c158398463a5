"""Markdown for text a model wrote: no raw HTML, images as links, links in a new tab."""

from __future__ import annotations

import reflex as rx

from llm_chat.state.locale import t

# The module Reflex copies from assets/ into the front end's public/ folder.
IMAGE_LINK_MODULE = "$/public/image_link.jsx"
# Followed links get neither our page as their opener nor its address as referrer.
LINK_REL = "noopener noreferrer"


class ImageLink(rx.Component):
    """An image of the markdown as a link to it, showing its alt text and host; never loaded.

    react-markdown passes it the image's ``src``, ``alt`` and ``title``.
    """

    library = IMAGE_LINK_MODULE
    tag = "ImageLink"


class ImageLinkTexts(rx.Component):
    """Gives the image links inside it their texts (a React context; renders no element)."""

    library = IMAGE_LINK_MODULE
    tag = "ImageLinkTexts"

    # Shown instead of the alt text when an image has none.
    label: rx.Var[str]
    # A link's hover text, before the image's address.
    hint: rx.Var[str]


def _image(_children: rx.Var[str]) -> rx.Component:
    """The ``img`` of the component map: never an ``<img>`` (see assets/image_link.jsx)."""
    return ImageLink.create()


def _link(children: rx.Var[str]) -> rx.Component:
    """The ``a`` of the component map: a Radix link that opens in a new tab."""
    return rx.link(children, target="_blank", rel=LINK_REL)


def reply_markdown(content: rx.Var[str]) -> rx.Component:
    """``content`` as markdown, safe to render whatever a model put in it."""
    return ImageLinkTexts.create(
        rx.markdown(
            content,
            # Never raw HTML: model output could carry scripts (XSS).
            use_raw=False,
            # An image stays in its paragraph: it is a line of text now, not a block.
            use_unwrap_images=False,
            # Not a state var in here: the map's function runs once per message (hooks).
            component_map={"img": _image, "a": _link},
        ),
        label=t("chat.image"),
        hint=t("chat.image_not_loaded"),
    )
