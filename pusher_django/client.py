"""The typed Pusher REST client and the local authorization helpers.

Every method validates its input before anything is sent, so bad input
raises :class:`~pusher_django.exceptions.PusherValidationError` and never
reaches the network. Building and signing a request (:meth:`PusherClient.prepare`)
is separate from sending it (:class:`~pusher_django.transport.Transport`, or
:class:`~pusher_django.async_transport.AsyncTransport` for the ``a``-prefixed
coroutine twins), which keeps signatures testable with a fixed clock and
gives both kinds of call one set of rules.
"""

from __future__ import annotations

import functools
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, cast

from . import info as info_rules
from .api_types import (
    BatchEvent,
    BatchResult,
    ChannelAuth,
    ChannelInfo,
    ChannelsResult,
    TriggerResult,
    UserAuth,
    UsersResult,
)
from .async_transport import AsyncTransport
from .channels import (
    SERVER_TO_USER_PREFIX,
    channel_kind,
    is_presence,
    validate_channel_name,
)
from .conf import PusherConfig, get_config, on_reset
from .crypto import shared_secret_b64
from .exceptions import PusherConfigurationError, PusherValidationError
from .payloads import encode_event_data
from .sender_exclusion import excluded_socket
from .signing import channel_auth_token, compact_json, sign_rest_request, user_auth_token
from .transport import PreparedRequest, Transport
from .validation import validate_event_name, validate_socket_id, validate_user_id

MAX_TRIGGER_CHANNELS = 100
MAX_BATCH_EVENTS = 10
MAX_PRESENCE_USER_ID_LENGTH = 128
MAX_PRESENCE_USER_INFO_BYTES = 1024
MAX_WATCHLIST = 100
_BATCH_KEYS = frozenset({"channel", "name", "data", "socket_id", "info"})


def _channel_list(channels: str | Iterable[str]) -> list[str]:
    names = [channels] if isinstance(channels, str) else list(channels)
    if not names:
        raise PusherValidationError("At least one channel is required.")
    if len(names) > MAX_TRIGGER_CHANNELS:
        raise PusherValidationError(
            f"{len(names)} channels given; one trigger reaches at most {MAX_TRIGGER_CHANNELS}."
        )
    for name in names:
        validate_channel_name(name, allow_server_to_user=True)
    if len(set(names)) != len(names):
        raise PusherValidationError("The same channel is listed more than once.")
    return names


def _exclusion_and_info(
    item: dict[str, Any], socket_id: str | None, info: info_rules.InfoArg, channels: list[str]
) -> dict[str, Any]:
    """Add the excluded socket (given, else the request's) and the ``info`` attributes."""
    socket_id = excluded_socket(socket_id)
    if socket_id is not None:
        item["socket_id"] = validate_socket_id(socket_id)
    attributes = info_rules.for_trigger(info, channels)
    if attributes:
        item["info"] = ",".join(attributes)
    return item


class PusherClient:
    """Client for the Pusher Channels HTTP API of one app.

    Each API call is built, validated, encrypted and signed once, by a
    ``_*_request`` method, and then sent either by the sync transport
    (``trigger``) or by the async one (its twin ``atrigger``): the two can only
    differ in how the bytes travel.
    """

    def __init__(
        self,
        config: PusherConfig,
        transport: Transport | None = None,
        async_transport: AsyncTransport | None = None,
    ) -> None:
        self.config = config
        self.transport = transport or Transport(config.base_url, config.timeout)
        self._async_transport = async_transport

    def __repr__(self) -> str:
        return f"<PusherClient app_id={self.config.app_id} {self.config.base_url}>"

    @property
    def async_transport(self) -> AsyncTransport:
        """Created on the first coroutine call, so sync-only projects never need httpx."""
        if self._async_transport is None:
            self._async_transport = AsyncTransport(self.config.base_url, self.config.timeout)
        return self._async_transport

    async def aclose(self) -> None:
        """Close the running event loop's pooled connections."""
        if self._async_transport is not None:
            await self._async_transport.aclose()

    # -- signing -----------------------------------------------------------------

    def prepare(
        self,
        method: str,
        path: str,
        params: Mapping[str, str] | None = None,
        body: Any = None,
        *,
        timestamp: int | None = None,
    ) -> PreparedRequest:
        """Sign a request for ``/apps/<app_id><path>`` without sending it."""
        full_path = f"/apps/{self.config.app_id}{path}"
        raw = None if body is None else compact_json(body).encode("utf-8")
        query = sign_rest_request(
            key=self.config.key,
            secret=self.config.secret,
            method=method,
            path=full_path,
            params=params,
            body=raw,
            timestamp=timestamp,
        )
        return PreparedRequest(method, full_path, query, raw)

    def _send(self, request: PreparedRequest) -> Any:
        return self.transport.send(request.method, request.path, request.query, request.body)

    async def _asend(self, request: PreparedRequest) -> Any:
        return await self.async_transport.send(
            request.method, request.path, request.query, request.body
        )

    def _encode(self, channels: Sequence[str], data: Any) -> str:
        return encode_event_data(
            channels,
            data,
            master_key=self.config.encryption_master_key,
            max_bytes=self.config.max_payload_bytes,
        )

    # -- requests ------------------------------------------------------------------

    def _trigger_request(
        self,
        channels: str | Iterable[str],
        event: str,
        data: Any,
        socket_id: str | None,
        info: info_rules.InfoArg,
    ) -> PreparedRequest:
        names = _channel_list(channels)
        body: dict[str, Any] = {
            "name": validate_event_name(event),
            "data": self._encode(names, data),
            "channels": names,
        }
        return self.prepare(
            "POST", "/events", body=_exclusion_and_info(body, socket_id, info, names)
        )

    def _batch_item(self, index: int, event: Mapping[str, Any]) -> dict[str, Any]:
        if not isinstance(event, Mapping):
            raise PusherValidationError(f"Batch event {index} must be a dict, got {event!r}.")
        if "channels" in event:
            raise PusherValidationError(
                f"Batch event {index} lists several channels; each batch event has one 'channel'."
            )
        unknown = set(event) - _BATCH_KEYS
        if unknown:
            raise PusherValidationError(
                f"Batch event {index} has unknown keys: {', '.join(sorted(unknown))}."
            )
        for key in ("channel", "name", "data"):
            if key not in event:
                raise PusherValidationError(f"Batch event {index} has no {key!r}.")
        channel = validate_channel_name(event["channel"], allow_server_to_user=True)
        item: dict[str, Any] = {
            "channel": channel,
            "name": validate_event_name(event["name"]),
            "data": self._encode([channel], event["data"]),
        }
        return _exclusion_and_info(item, event.get("socket_id"), event.get("info"), [channel])

    def _batch_request(self, events: Iterable[BatchEvent | Mapping[str, Any]]) -> PreparedRequest:
        items = list(events)
        if not items:
            raise PusherValidationError("trigger_batch needs at least one event.")
        if len(items) > MAX_BATCH_EVENTS:
            raise PusherValidationError(
                f"{len(items)} events given; a batch holds at most {MAX_BATCH_EVENTS}."
            )
        batch = [self._batch_item(index, event) for index, event in enumerate(items)]
        return self.prepare("POST", "/batch_events", body={"batch": batch})

    def _channels_request(
        self, filter_by_prefix: str | None, info: info_rules.InfoArg
    ) -> PreparedRequest:
        params: dict[str, str] = {}
        if filter_by_prefix is not None:
            if not isinstance(filter_by_prefix, str) or not filter_by_prefix:
                raise PusherValidationError("filter_by_prefix must be a non-empty string.")
            params["filter_by_prefix"] = filter_by_prefix
        attributes = info_rules.for_channel_list(info, filter_by_prefix)
        if attributes:
            params["info"] = ",".join(attributes)
        return self.prepare("GET", "/channels", params)

    def _channel_request(self, channel: str, info: info_rules.InfoArg) -> PreparedRequest:
        validate_channel_name(channel)
        attributes = info_rules.for_channel(info, channel)
        params = {"info": ",".join(attributes)} if attributes else {}
        return self.prepare("GET", f"/channels/{channel}", params)

    def _users_request(self, channel: str) -> PreparedRequest:
        validate_channel_name(channel)
        if not is_presence(channel):
            raise PusherValidationError(
                f"get_users needs a presence channel (presence-...), got {channel!r}."
            )
        return self.prepare("GET", f"/channels/{channel}/users")

    def _terminate_request(self, user_id: str) -> PreparedRequest:
        path = f"/users/{validate_user_id(user_id)}/terminate_connections"
        return self.prepare("POST", path, body={})

    # -- events ------------------------------------------------------------------

    def trigger(
        self,
        channels: str | Iterable[str],
        event: str,
        data: Any,
        *,
        socket_id: str | None = None,
        info: info_rules.InfoArg = None,
    ) -> TriggerResult:
        """Publish one event to up to 100 channels (an encrypted channel only alone).

        ``socket_id`` excludes that connection (usually the sender's); by
        default it is the current request's ``X-Socket-ID`` (see
        :class:`~pusher_django.middleware.SocketIdMiddleware`);
        ``info`` asks for ``subscription_count`` / ``user_count`` in the answer.
        """
        request = self._trigger_request(channels, event, data, socket_id, info)
        return cast(TriggerResult, self._send(request))

    async def atrigger(
        self,
        channels: str | Iterable[str],
        event: str,
        data: Any,
        *,
        socket_id: str | None = None,
        info: info_rules.InfoArg = None,
    ) -> TriggerResult:
        """:meth:`trigger` from a coroutine."""
        request = self._trigger_request(channels, event, data, socket_id, info)
        return cast(TriggerResult, await self._asend(request))

    def trigger_batch(self, events: Iterable[BatchEvent | Mapping[str, Any]]) -> BatchResult:
        """Publish up to 10 events, each to one channel, in one request."""
        return cast(BatchResult, self._send(self._batch_request(events)))

    async def atrigger_batch(self, events: Iterable[BatchEvent | Mapping[str, Any]]) -> BatchResult:
        """:meth:`trigger_batch` from a coroutine."""
        return cast(BatchResult, await self._asend(self._batch_request(events)))

    def send_to_user(self, user_id: str, event: str, data: Any) -> TriggerResult:
        """Send an event to every connection signed in as ``user_id``."""
        return self.trigger(SERVER_TO_USER_PREFIX + validate_user_id(user_id), event, data)

    async def asend_to_user(self, user_id: str, event: str, data: Any) -> TriggerResult:
        """:meth:`send_to_user` from a coroutine."""
        return await self.atrigger(SERVER_TO_USER_PREFIX + validate_user_id(user_id), event, data)

    # -- channels and users ----------------------------------------------------------

    def get_channels(
        self, filter_by_prefix: str | None = None, info: info_rules.InfoArg = None
    ) -> ChannelsResult:
        """Occupied channels, optionally only those whose name starts with a prefix."""
        return cast(ChannelsResult, self._send(self._channels_request(filter_by_prefix, info)))

    async def aget_channels(
        self, filter_by_prefix: str | None = None, info: info_rules.InfoArg = None
    ) -> ChannelsResult:
        """:meth:`get_channels` from a coroutine."""
        request = self._channels_request(filter_by_prefix, info)
        return cast(ChannelsResult, await self._asend(request))

    def get_channel(self, channel: str, info: info_rules.InfoArg = None) -> ChannelInfo:
        """State of one channel: ``occupied`` plus the requested attributes."""
        return cast(ChannelInfo, self._send(self._channel_request(channel, info)))

    async def aget_channel(self, channel: str, info: info_rules.InfoArg = None) -> ChannelInfo:
        """:meth:`get_channel` from a coroutine."""
        return cast(ChannelInfo, await self._asend(self._channel_request(channel, info)))

    def get_users(self, channel: str) -> UsersResult:
        """Users on a presence channel; pass the full name (``presence-room``)."""
        return cast(UsersResult, self._send(self._users_request(channel)))

    async def aget_users(self, channel: str) -> UsersResult:
        """:meth:`get_users` from a coroutine."""
        return cast(UsersResult, await self._asend(self._users_request(channel)))

    def terminate_user_connections(self, user_id: str) -> dict[str, Any]:
        """Close every connection signed in as ``user_id``."""
        return cast(dict[str, Any], self._send(self._terminate_request(user_id)))

    async def aterminate_user_connections(self, user_id: str) -> dict[str, Any]:
        """:meth:`terminate_user_connections` from a coroutine."""
        return cast(dict[str, Any], await self._asend(self._terminate_request(user_id)))

    # -- local authorization -------------------------------------------------------------

    def authorize_channel(
        self, socket_id: str, channel: str, user_data: Mapping[str, Any] | None = None
    ) -> ChannelAuth:
        """The JSON an auth endpoint returns to pusher-js for one subscription.

        Presence channels need ``user_data`` (``user_id`` and optional
        ``user_info``); encrypted channels get their ``shared_secret``.
        """
        validate_socket_id(socket_id)
        validate_channel_name(channel)
        kind = channel_kind(channel)
        if not kind.needs_auth:
            raise PusherValidationError(f"{kind.label} channel {channel!r} needs no authorization.")
        channel_data = None
        if kind.is_presence:
            channel_data = presence_channel_data(user_data)
        elif user_data is not None:
            raise PusherValidationError("user_data applies only to presence channels.")
        result: ChannelAuth = {
            "auth": channel_auth_token(
                self.config.key, self.config.secret, socket_id, channel, channel_data
            )
        }
        if channel_data is not None:
            result["channel_data"] = channel_data
        if kind.is_encrypted:
            if self.config.encryption_master_key is None:
                raise PusherConfigurationError(
                    f"{channel!r} is encrypted but PUSHER['ENCRYPTION_MASTER_KEY_BASE64'] is "
                    "not set."
                )
            result["shared_secret"] = shared_secret_b64(channel, self.config.encryption_master_key)
        return result

    def authenticate_user(self, socket_id: str, user_data: Mapping[str, Any]) -> UserAuth:
        """The JSON a user sign-in endpoint returns for ``pusher.signin()``."""
        validate_socket_id(socket_id)
        encoded = signin_user_data(user_data)
        return {
            "auth": user_auth_token(self.config.key, self.config.secret, socket_id, encoded),
            "user_data": encoded,
        }


def presence_channel_data(user_data: Mapping[str, Any] | None) -> str:
    """The ``channel_data`` string for a presence subscription (validated)."""
    if not isinstance(user_data, Mapping) or user_data.get("user_id") in (None, ""):
        raise PusherValidationError("Presence channels need user_data with a 'user_id'.")
    user_id = str(user_data["user_id"])
    if len(user_id) > MAX_PRESENCE_USER_ID_LENGTH:
        raise PusherValidationError(
            f"Presence user ids are limited to {MAX_PRESENCE_USER_ID_LENGTH} characters."
        )
    member: dict[str, Any] = {"user_id": user_id}
    if user_data.get("user_info") is not None:
        member["user_info"] = user_data["user_info"]
    try:
        encoded = compact_json(member)
        info_size = len(compact_json(member.get("user_info")).encode("utf-8"))
    except (TypeError, ValueError) as err:
        raise PusherValidationError(f"Presence user_info is not JSON-serializable: {err}") from err
    if info_size > MAX_PRESENCE_USER_INFO_BYTES:
        raise PusherValidationError(
            f"Presence user_info is {info_size} bytes; the limit is {MAX_PRESENCE_USER_INFO_BYTES}."
        )
    return encoded


def signin_user_data(user_data: Mapping[str, Any]) -> str:
    """The ``user_data`` string of a sign-in: ``id`` required, watchlist checked."""
    if not isinstance(user_data, Mapping) or user_data.get("id") in (None, ""):
        raise PusherValidationError("User sign-in needs user_data with an 'id'.")
    data = dict(user_data)
    data["id"] = validate_user_id(str(data["id"]))
    watchlist = data.get("watchlist")
    if watchlist is not None:
        if not isinstance(watchlist, list | tuple) or len(watchlist) > MAX_WATCHLIST:
            raise PusherValidationError(f"watchlist must be a list of at most {MAX_WATCHLIST} ids.")
        data["watchlist"] = [validate_user_id(str(item)) for item in watchlist]
    try:
        return compact_json(data)
    except (TypeError, ValueError) as err:
        raise PusherValidationError(f"user_data is not JSON-serializable: {err}") from err


def send_events(client: PusherClient, events: Sequence[Mapping[str, Any]]) -> None:
    """Send up to ten events in one request: ``/events`` for one, ``/batch_events`` for more."""
    if len(events) == 1:
        only = events[0]
        client.trigger(only["channel"], only["name"], only["data"], socket_id=only.get("socket_id"))
    else:
        client.trigger_batch(events)


@functools.lru_cache(maxsize=1)
def get_client() -> PusherClient:
    """The client configured from settings (one per process, pooled connections)."""
    return PusherClient(get_config())


@on_reset
def _forget_client() -> None:
    if get_client.cache_info().currsize:
        client = get_client()
        client.transport.close()
        if client._async_transport is not None:
            client._async_transport.forget()
    get_client.cache_clear()
