"""The JSON API a paired kiosk uses besides posting ratings: heartbeat and officer sign-in.

Every call carries ``Authorization: Bearer DEVICE_TOKEN``; an unknown or revoked token gets a
401, on which the tablet shows its "not connected" screen.
"""

from __future__ import annotations

from datetime import datetime
from functools import wraps

from flask import Blueprint, g, jsonify, request

from kiosk.auth import DEVICE_COOKIE, bearer_token, device_credential, set_device_cookie
from kiosk.boundary import read_json
from kiosk.database import get_session, run_apart
from kiosk.errors import json_error
from kiosk.settings import settings
from kiosk.views.api.openapi import DEVICE, Answer, error, operation
from kiosk.views.api.schemas import (
    ChoosePinBody,
    HeartbeatBody,
    KioskStateOut,
    OfficerOut,
    SignInBody,
    parse,
)
from surveys import kiosks, officers
from surveys.db import utcnow
from surveys.errors import WrongCredentials
from surveys.models import Officer
from surveys.officers import shift_closes_at
from surveys.periods import to_local

bp = Blueprint("kiosk_api", __name__, url_prefix="/api/v1/kiosk")

_UNKNOWN_DEVICE = error("Unknown or revoked device token", **{"WWW-Authenticate": "Bearer"})


def unknown_device():
    """The 401 of an unknown or revoked device token (the rate limiter counts these)."""
    response, status = json_error(401, "unknown_device")
    response.headers["WWW-Authenticate"] = 'Bearer realm="kiosk"'
    return response, status


def device_required(view):
    """Let only a paired, active kiosk in; 401 otherwise (counted against the client)."""

    @wraps(view)
    def wrapped(*args, **kwargs):
        device = kiosks.device_for_token(get_session(), device_credential(), utcnow())
        if device is None:
            return unknown_device()
        g.kiosk_device = device
        return view(*args, **kwargs)

    return wrapped


def _officer(officer: Officer | None) -> dict | None:
    return None if officer is None else {"code": officer.code, "name": officer.name}


def _iso_utc(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds") + "Z"


def _state_body(state: kiosks.KioskState, now: datetime) -> dict:
    return {
        "status": "ok",
        "server_time": _iso_utc(now),
        "officer": _officer(state.officer),
        "counter": {"code": state.counter.code, "name": state.counter.name},
        "office": {
            "code": state.office.code,
            "name": state.office.name,
            "closes_at": to_local(
                shift_closes_at(now, state.office), state.office.timezone
            ).strftime("%H:%M"),
        },
    }


@operation(
    method="post",
    path="/kiosk/heartbeat",
    summary="A kiosk reports its health (every minute) and learns its state",
    body=HeartbeatBody,
    security=DEVICE,
    answers={
        200: Answer("The kiosk's state", KioskStateOut),
        400: error("Invalid report"),
        401: _UNKNOWN_DEVICE,
    },
)
@bp.post("/heartbeat")
@device_required
def heartbeat():
    body = parse(HeartbeatBody, read_json())
    now = utcnow()
    state = kiosks.record_heartbeat(
        get_session(),
        g.kiosk_device,
        now=now,
        app_version=body.app_version,
        queue_depth=body.queue_depth,
        oldest_queued_at=body.oldest_queued_at,
        last_error=body.last_error,
    )
    response = jsonify(_state_body(state, now))
    presented = request.cookies.get(DEVICE_COOKIE)
    if bearer_token() is None and presented:
        # The tablet's credential is replaced now and then; the browser gets the new one in
        # its httponly cookie (the page's script never sees either).
        config = settings()
        fresh = kiosks.rotate_credential(
            get_session(),
            g.kiosk_device,
            presented,
            now=now,
            every=config.kiosk_credential_rotate,
            overlap=config.kiosk_credential_overlap,
        )
        if fresh is not None:
            set_device_cookie(response, fresh)
    return response


@operation(
    method="get",
    path="/kiosk/state",
    summary="The kiosk's counter, office and officer on duty (records nothing)",
    security=DEVICE,
    answers={200: Answer("The kiosk's state", KioskStateOut), 401: _UNKNOWN_DEVICE},
)
@bp.get("/state")
@device_required
def state():
    now = utcnow()
    return jsonify(_state_body(kiosks.kiosk_state(get_session(), g.kiosk_device, now=now), now))


@operation(
    method="post",
    path="/kiosk/officer/sign-in",
    summary="An officer of this kiosk's office signs in for a shift",
    description="With the officer's code and PIN, or with the secret of their badge QR. "
    "Whoever was on duty on this kiosk is signed out, and so is this officer elsewhere.",
    body=SignInBody,
    security=DEVICE,
    answers={
        200: Answer("Signed in", OfficerOut),
        400: error("Neither code and PIN nor a badge"),
        401: error("Wrong officer code, PIN or badge (wrong_credentials), or unknown device"),
        409: error(
            "The PIN given is the setup code of a reset (pin_setup_required): the officer "
            "chooses their own PIN with POST /kiosk/officer/pin"
        ),
        429: error(
            "Too many attempts on this kiosk, or this officer's PIN sign-in is locked after "
            "5 wrong PINs from any kiosk (pin_locked, 15 minutes; a badge still works)",
            **{"Retry-After": "Seconds to wait"},
        ),
    },
)
@bp.post("/officer/sign-in")
@device_required
def officer_sign_in():
    body = parse(SignInBody, read_json())
    now = utcnow()
    try:
        officer = officers.sign_in_officer(
            get_session(),
            g.kiosk_device,
            officer_code=body.officer,
            pin=body.pin,
            badge=body.badge,
            now=now,
        )
    except WrongCredentials:
        if body.pin and not body.badge:
            # This request rolls back; the count of wrong PINs must not.
            config = settings()
            device_id = g.kiosk_device.id
            run_apart(
                lambda apart: officers.note_pin_failure(
                    apart,
                    body.officer,
                    now=now,
                    max_failures=config.pin_max_failures,
                    lock_for=config.pin_lock,
                    device_id=device_id,
                )
            )
        raise
    return jsonify({"officer": _officer(officer)})


@operation(
    method="post",
    path="/kiosk/officer/pin",
    summary="An officer whose PIN was reset chooses their own, and is signed in",
    description="With the one-time setup code the manager who reset the PIN gave them. "
    "The new PIN is 6 to 8 digits, not one anyone would guess first.",
    body=ChoosePinBody,
    security=DEVICE,
    answers={
        200: Answer("PIN chosen, officer signed in", OfficerOut),
        400: error("A PIN that is not 6 to 8 digits, too easy to guess, or typed differently"),
        401: error("Wrong officer code or setup code (wrong_credentials), or unknown device"),
        429: error("Too many attempts on this kiosk", **{"Retry-After": "Seconds to wait"}),
    },
)
@bp.post("/officer/pin")
@device_required
def officer_choose_pin():
    body = parse(ChoosePinBody, read_json())
    officer = officers.choose_officer_pin(
        get_session(),
        g.kiosk_device,
        officer_code=body.officer,
        setup_code=body.setup_code,
        pin=body.pin,
        pin_again=body.pin_again,
        now=utcnow(),
    )
    return jsonify({"officer": _officer(officer)})


@operation(
    method="post",
    path="/kiosk/officer/sign-out",
    summary="Sign out whoever is on duty on this kiosk",
    security=DEVICE,
    answers={200: Answer("Nobody is on duty now", OfficerOut), 401: _UNKNOWN_DEVICE},
)
@bp.post("/officer/sign-out")
@device_required
def officer_sign_out():
    officers.sign_out_officer(get_session(), g.kiosk_device, now=utcnow())
    return jsonify({"officer": None})
