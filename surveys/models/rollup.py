"""Counts kept up to date with every counted response, so figures never read the responses.

One table holds several *grains*: each row counts the responses (or answers) of one office on
one local calendar day, broken down by the dimensions its grain names; the other dimensions
hold 0 (or "" for the channel). The grains are chosen so that every figure of the dashboard and
the summary API sums a few thousand rows at most, whatever the number of responses:

=====  =========================================  ================================================
grain  dimensions                                 figures
=====  =========================================  ================================================
1      office, day, channel                       overview, trend, channel mix, verified share
2      office, day, local hour                    weekday × hour heatmap
3      office, day, counter                       per-counter table
4      office, day, officer                       per-officer table, officer page
5      office, day, question, choice              per-question figures, values, reasons over time
6      office, day, officer, question, choice     the officer's values and reasons
=====  =========================================  ================================================

Grains 1–4 count responses (``n``) and their headline polarity (``positives``, ``negatives``);
grains 5–6 count answers (``n``) per choice, and, with ``choice_id`` 0, how many responses
answered a several-choice or free-text question. A question belongs to one survey version, so
counts per question are counts per survey version. Rows are written in the transaction that
stores the response (surveys/rollups.py); ``flask rollups rebuild`` recomputes them.

No foreign keys: the dimensions are copies of the response's, 0 means "any", and the table is
written on every submission, where each foreign-key check would cost an index probe.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import Date, Integer, SmallInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from surveys.db import Base

OFFICE_DAY = 1
OFFICE_HOUR = 2
COUNTER_DAY = 3
OFFICER_DAY = 4
ANSWER_DAY = 5
OFFICER_ANSWER_DAY = 6
GRAINS = (OFFICE_DAY, OFFICE_HOUR, COUNTER_DAY, OFFICER_DAY, ANSWER_DAY, OFFICER_ANSWER_DAY)


class Rollup(Base):
    __tablename__ = "rollup"

    #: Which breakdown this row belongs to (see the module's table).
    grain: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    office_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The calendar day in the office's time zone.
    local_day: Mapped[date] = mapped_column(Date, primary_key=True)
    #: 0–23 in the office's time zone for grain 2, else 0.
    hour: Mapped[int] = mapped_column(SmallInteger, primary_key=True)
    counter_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    officer_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: kiosk, qr or ticket for grain 1, else "".
    channel: Mapped[str] = mapped_column(String(16), primary_key=True)
    question_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The chosen choice; 0 counts the responses that answered the question.
    choice_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    n: Mapped[int] = mapped_column(Integer, default=0)
    positives: Mapped[int] = mapped_column(Integer, default=0)
    negatives: Mapped[int] = mapped_column(Integer, default=0)
