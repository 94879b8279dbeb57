"""The simulated platform's population and what it does each tick. Ground truth lives here
and only here: who is an extremist, which account is whose comeback, which posts are
propaganda. The driver sends Takedown only what a platform would (profiles, posts,
interactions, user reports) and reads back only what Takedown's API returns.

Populations: ordinary users (chatter, shared news, holiday photos), news organisations (news
text, sometimes a still from a propaganda video), counter-speech activists (rebuttals that
often quote the propaganda they answer) and extremist networks (propaganda, banked media,
links into propaganda domains, chatter, news; they follow and amplify each other and, once
suspended, come back after a pause under an edited name, bio and avatar).
"""

from __future__ import annotations

import base64
import random
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from PIL import Image

from takedown.simulate.corpus import Corpus
from takedown.simulate.media import drawn_images, edited, original
from takedown.simulate.params import SimParams

EPOCH = datetime(2026, 1, 1, tzinfo=UTC)
KUNYAS = ("Abu Qaqa", "Abu Hamza", "Abu Mus'ab", "Abu Bakr", "Abu Omar", "Abu Talha",
          "Abu Dujana", "Abu Usama", "Abu Layth", "Abu Sayyaf", "Umm Sumayya", "Umm Khalid")
NISBAS = ("al-Shami", "al-Iraqi", "al-Britani", "al-Maghribi", "al-Tunisi", "al-Libi",
          "al-Muhajir", "al-Ansari", "al-Khurasani", "al-Almani")
BIOS = ("Baqiyah wa tatamaddad. Servant of the ummah. New account, support me",
        "Soldier of the khilafah. My old account was suspended, follow and share",
        "Wilayat news and releases. Retweet before they delete",
        "Ghuraba. Dunya is a prison for the believer. Account number {gen}",
        "Lions of tawheed. Spreading the releases of the mujahideen")
FIRST = ("Sam", "Lena", "Omar", "Aisha", "Jon", "Mira", "Yusuf", "Nora", "Karim", "Ella",
         "Hassan", "Sara", "Ali", "Fatima", "Tom", "Rania", "Leo", "Maya", "Ziad", "Ivy")
LAST = ("Haddad", "Smith", "Nasser", "Khan", "Berg", "Mansour", "Diaz", "Saleh", "Weber",
        "Aziz", "Okafor", "Rossi")
HOBBIES = ("coffee, football and long walks", "teacher. views my own", "photos of my city",
           "gamer and cook", "engineering student", "dad of two, Liverpool fan",
           "nurse, night shifts", "books, tea and cats")
NEWS = ("Daily Ledger", "Gulf Wire", "Levant Times", "Metro Bulletin", "Global Desk",
        "Northern Herald", "Capital Report", "Desert Post")
COUNTER = ("Voices Against Hate", "Exit Extremism", "Not In Our Name", "Fact Check Jihad",
           "Peace Builders", "Former Fighters Speak", "Hope Not Hate ME", "Truth Over Terror")
PROPAGANDA_DOMAINS = ("nashir-news.example", "amaq-agency.example", "khilafah-media.example",
                      "dabiq-archive.example", "rumiyah-files.example")
NEWS_DOMAINS = ("dailyledger.example", "gulfwire.example", "levanttimes.example")
HOMOGLYPHS = {"a": "а", "o": "о", "e": "е", "i": "і"}


@dataclass
class Agent:
    """One platform account and its hidden truth."""

    account_id: str
    kind: str
    created_at: float
    name: str
    bio: str
    avatar: bytes
    persona: int = -1
    network: int = -1
    generation: int = 0
    lang: str = "en"
    posts: int = 0
    follows: list[str] = field(default_factory=list)
    suspended_at: float | None = None
    actioned_at: float | None = None
    posts_at_action: int | None = None
    posts_at_suspension: int | None = None
    first_report_at: float | None = None
    suspended_by: str | None = None

    @property
    def extremist(self) -> bool:
        return self.kind == "extremist"

    @property
    def alive(self) -> bool:
        return self.suspended_at is None


def iso(t: float) -> str:
    return (EPOCH + timedelta(seconds=t)).isoformat()


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


class World:
    def __init__(self, params: SimParams, corpus: Corpus, images: list[Image.Image]) -> None:
        self.p = params
        self.rng = random.Random(params.seed)
        self.corpus = corpus
        pool = list(images) or drawn_images(24, params.seed + 7)
        self.rng.shuffle(pool)
        half = max(1, len(pool) // 2)
        self.propaganda_images = pool[:half]
        self.persona_avatars = pool[half:] or pool
        self.photos = drawn_images(16, params.seed + 11)
        count = len(self.propaganda_images)
        self.banked_images = set(self.rng.sample(range(count),
                                                 round(count * params.banked_image_fraction)))
        n_domains = round(len(PROPAGANDA_DOMAINS) * params.banked_domain_fraction)
        self.banked_domains = PROPAGANDA_DOMAINS[:n_domains]
        self.agents: dict[str, Agent] = {}
        self.pending: list[tuple[float, Agent]] = []
        self.reports: list[tuple[float, str, str]] = []
        self.item_owner: dict[str, str] = {}
        self.sequence = 0
        self._populate()

    # -- population ------------------------------------------------------------------------

    def _add(self, agent: Agent) -> Agent:
        self.agents[agent.account_id] = agent
        return agent

    def _populate(self) -> None:
        rng = self.rng
        for n in range(self.p.news_orgs):
            name = f"{NEWS[n % len(NEWS)]} {n // len(NEWS) or ''}".strip()
            self._add(Agent(f"news{n}", "news", 0.0, name, "Breaking news and analysis",
                            original(drawn_images(1, self.p.seed * 100 + n)[0])))
        for n in range(self.p.ordinary):
            name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
            self._add(Agent(f"user{n}", "ordinary", 0.0, name, rng.choice(HOBBIES),
                            original(drawn_images(1, self.p.seed * 1000 + 500 + n)[0]),
                            lang="ar" if rng.random() < 0.4 else "en"))
        for n in range(self.p.counter_speech):
            name = f"{COUNTER[n % len(COUNTER)]} {n // len(COUNTER) or ''}".strip()
            self._add(Agent(f"cs{n}", "counter", 0.0, name,
                            "We answer extremist propaganda with facts",
                            original(drawn_images(1, self.p.seed * 100 + 50 + n)[0])))
        persona = 0
        for net in range(self.p.extremist_networks):
            for _ in range(self.p.extremists_per_network):
                self._add(self._extremist(persona, net, 0, 0.0))
                persona += 1
        for agent in self.agents.values():
            agent.follows = self._initial_follows(agent)

    def _extremist(self, persona: int, network: int, generation: int, t: float) -> Agent:
        base = random.Random(self.p.seed * 7919 + persona)
        name = f"{base.choice(KUNYAS)} {base.choice(NISBAS)}"
        bio = base.choice(BIOS)
        avatar_base = self.persona_avatars[persona % len(self.persona_avatars)]
        lang = "ar" if base.random() < self.p.extremist_arabic_share else "en"
        if generation:
            name = self._variant(name, generation)
            words = bio.split()
            drop = self.rng.randrange(len(words))
            bio = " ".join(words[:drop] + words[drop + 1:]) + f" back again {generation}"
            avatar = edited(avatar_base, self.rng)
        else:
            avatar = original(avatar_base)
        return Agent(f"x{persona}g{generation}", "extremist", t, name, bio.format(gen=generation),
                     avatar, persona, network, generation, lang)

    def _variant(self, name: str, generation: int) -> str:
        rng = self.rng
        out = name
        choice = rng.randrange(4)
        if choice == 0:
            out = out.replace(" ", "_")
        elif choice == 1:
            out = "".join(HOMOGLYPHS.get(c, c) if rng.random() < 0.3 else c for c in out)
        elif choice == 2:
            out = out.upper() if rng.random() < 0.5 else out.lower()
        else:
            out = out.replace("Abu", "Abou").replace("al-", "el ")
        return f"{out}{rng.choice(['', '_', ' '])}{generation + rng.randrange(9)}"

    def _initial_follows(self, agent: Agent) -> list[str]:
        rng = self.rng
        news = [a.account_id for a in self.agents.values() if a.kind == "news"]
        ordinary = [a.account_id for a in self.agents.values() if a.kind == "ordinary"]
        picks = set(rng.sample(news, min(2, len(news))))
        if agent.kind == "extremist":
            for other in self.agents.values():
                if other.extremist and other.network == agent.network and other.alive \
                        and other.account_id != agent.account_id \
                        and rng.random() < self.p.follow_network_share:
                    picks.add(other.account_id)
        elif agent.kind == "ordinary":
            picks |= set(rng.sample(ordinary, min(3, len(ordinary))))
        picks.discard(agent.account_id)
        return sorted(picks)

    def on_suspended(self, agent: Agent, t: float) -> None:
        """The person behind a suspended extremist account may come back after a pause."""
        agent.suspended_at = t
        if agent.extremist and self.rng.random() < self.p.return_probability:
            low, high = self.p.return_pause_hours
            back = t + self.rng.uniform(low, high) * 3600
            self.pending.append((back, self._extremist(agent.persona, agent.network,
                                                      agent.generation + 1, back)))

    # -- one tick ----------------------------------------------------------------------------

    def step(self, t: float, dt: float) -> dict[str, list[dict[str, Any]]]:
        profiles: list[dict[str, Any]] = []
        interactions: list[dict[str, Any]] = []
        if t == 0:
            profiles += [self._profile(a) for a in self.agents.values()]
            interactions += [{"account_id": a.account_id, "target_id": f, "kind": "follow",
                              "at": iso(0)} for a in self.agents.values() for f in a.follows]
        due = [(at, a) for at, a in self.pending if at < t + dt]
        self.pending = [(at, a) for at, a in self.pending if at >= t + dt]
        for _at, agent in due:
            self._add(agent)
            agent.follows = self._initial_follows(agent)
            profiles.append(self._profile(agent))
            interactions += [{"account_id": agent.account_id, "target_id": f, "kind": "follow",
                              "at": iso(agent.created_at)} for f in agent.follows]
        posts: list[dict[str, Any]] = []
        for agent in list(self.agents.values()):
            if not agent.alive or agent.created_at > t + dt:
                continue
            rate = {"ordinary": self.p.ordinary_posts_per_day, "news": self.p.news_posts_per_day,
                    "counter": self.p.counter_posts_per_day,
                    "extremist": self.p.extremist_posts_per_day}[agent.kind]
            for _ in range(self._poisson(rate * dt / 86400)):
                at = max(t, agent.created_at) + self.rng.random() * dt * 0.99
                posts.append(self._post(agent, at))
            interactions += self._amplify(agent, t, dt)
        return {"profiles": profiles, "interactions": interactions, "posts": posts}

    def _poisson(self, mean: float) -> int:
        count, limit, product = 0, pow(2.718281828, -mean), self.rng.random()
        while product > limit:
            count += 1
            product *= self.rng.random()
        return count

    def _profile(self, agent: Agent) -> dict[str, Any]:
        return {"account_id": agent.account_id, "display_name": agent.name, "bio": agent.bio,
                "avatar_base64": _b64(agent.avatar), "created_at": iso(agent.created_at)}

    def _amplify(self, agent: Agent, t: float, dt: float) -> list[dict[str, Any]]:
        rng = self.rng
        out = []
        alive = [f for f in agent.follows if self.agents.get(f) and self.agents[f].alive]
        if agent.extremist:
            mates = [a.account_id for a in self.agents.values() if a.extremist and a.alive
                     and a.network == agent.network and a.account_id != agent.account_id
                     and a.created_at <= t]
            for _ in range(self._poisson(self.p.amplify_per_day * dt / 86400)):
                if mates:
                    out.append({"account_id": agent.account_id, "target_id": rng.choice(mates),
                                "kind": "amplify", "at": iso(t)})
        elif agent.kind == "counter":
            targets = [a.account_id for a in self.agents.values() if a.extremist and a.alive]
            if targets and rng.random() < dt / 86400:
                out.append({"account_id": agent.account_id, "target_id": rng.choice(targets),
                            "kind": "reply", "at": iso(t)})
        elif alive and rng.random() < 0.5 * dt / 86400:
            out.append({"account_id": agent.account_id, "target_id": rng.choice(alive),
                        "kind": "amplify", "at": iso(t)})
        return out

    def _post(self, agent: Agent, at: float) -> dict[str, Any]:
        rng, p, c = self.rng, self.p, self.corpus
        self.sequence += 1
        item_id = f"p{self.sequence}"
        self.item_owner[item_id] = agent.account_id
        agent.posts += 1
        item: dict[str, Any] = {"id": item_id, "account_id": agent.account_id,
                                "metadata": {"posted_at": iso(at)}}
        harmful = False
        roll = rng.random()
        if agent.extremist:
            if roll < p.propaganda_share:
                item |= {"kind": "text", "text": rng.choice(c.propaganda)}
                harmful = True
            elif roll < p.propaganda_share + p.banked_media_share:
                index = rng.randrange(len(self.propaganda_images))
                item |= {"kind": "image", "content_base64": _b64(
                    edited(self.propaganda_images[index], rng, strength=0.5))}
                harmful = True
            elif roll < p.propaganda_share + p.banked_media_share + p.propaganda_link_share:
                domain = rng.choice(PROPAGANDA_DOMAINS)
                item |= {"kind": "url", "url": f"https://{domain}/release/{rng.randrange(10**6)}"}
                harmful = True
            elif roll < 0.9:
                item |= {"kind": "text", "text": rng.choice(
                    c.chatter_ar if agent.lang == "ar" else c.chatter_en)}
            else:
                item |= {"kind": "text", "text": rng.choice(c.news)}
        elif agent.kind == "news":
            if roll < p.news_still_share:
                index = rng.randrange(len(self.propaganda_images))
                item |= {"kind": "image", "content_base64": _b64(
                    edited(self.propaganda_images[index], rng, strength=0.5))}
            else:
                item |= {"kind": "text", "text": rng.choice(c.news) +
                         f" https://{rng.choice(NEWS_DOMAINS)}/story/{rng.randrange(10**6)}"}
        elif agent.kind == "counter":
            text = rng.choice(c.counter)
            if roll < p.counter_quote_share:
                text = f'"{rng.choice(c.propaganda)}" — {text}'
            item |= {"kind": "text", "text": text}
        else:
            if roll < 0.08:
                item |= {"kind": "image", "content_base64": _b64(
                    edited(rng.choice(self.photos), rng))}
            else:
                item |= {"kind": "text", "text": rng.choice(
                    c.chatter_ar if agent.lang == "ar" else c.chatter_en)}
        chance = p.report_probability if harmful else p.false_report_probability
        if rng.random() < chance:
            self.reports.append((at + rng.expovariate(1 / (p.report_delay_hours * 3600)),
                                 item_id, agent.account_id))
        return item

    def due_reports(self, until: float) -> list[tuple[float, str, str]]:
        due = [r for r in self.reports if r[0] < until]
        self.reports = [r for r in self.reports if r[0] >= until]
        return sorted(due)

    def bank_entries(self) -> tuple[list[bytes], list[str]]:
        """What the platform's hash-sharing membership already holds (images, domains)."""
        return ([original(self.propaganda_images[i]) for i in sorted(self.banked_images)],
                list(self.banked_domains))
