"""`bedrock:MODEL_ID`: AWS Bedrock's Converse API through boto3.

With a text sink the reply streams through ConverseStream; without one, plain Converse.
boto3 is synchronous, so each call runs on a thread of its own and text deltas cross to
the event loop as they arrive. Region and profile come from the options or the usual AWS
environment; `DCAF_BEDROCK_ENDPOINT_URL` (or `--base-url`) overrides the endpoint, for
VPC endpoints and tests. Every failure becomes one `ModelError` line, never a secret.
"""

from __future__ import annotations

import asyncio
import os
import threading
from collections.abc import Callable
from contextlib import closing, suppress
from functools import partial
from typing import Any, TypeVar

import boto3
from botocore import exceptions as boto_errors
from botocore.config import Config
from botocore.eventstream import ParserError
from urllib3.exceptions import HTTPError as StreamReadError

from dcaf_cli import settings
from dcaf_cli.errors import CredentialsError, ModelError, UsageError
from dcaf_cli.models import bedrock_errors
from dcaf_cli.models.base import ModelOptions, ModelReply, ModelRequest, TextSink
from dcaf_cli.models.bedrock_format import (
    Json,
    Put,
    StreamReply,
    converse_args,
    reply_from_converse,
)
from dcaf_cli.models.common import CUT_SHORT

T = TypeVar("T")


def create(spec: str, options: ModelOptions) -> BedrockModel:
    model_id = spec.partition(":")[2].strip()
    if not model_id:
        raise UsageError("bedrock: no model id", hint="use bedrock:MODEL_ID")
    model = BedrockModel(spec, model_id, options)
    model._session = aws_session(options)
    return model


def aws_session(options: ModelOptions) -> boto3.Session:
    """The AWS session to call Bedrock with, its credentials and region checked before any
    turn (as every provider's are)."""
    region = options.region or os.environ.get("AWS_REGION") or None
    try:
        session = boto3.Session(profile_name=options.profile, region_name=region)
    except boto_errors.ProfileNotFound:
        name = options.profile or os.environ.get("AWS_PROFILE")
        raise CredentialsError(
            f"bedrock: AWS profile {name!r} not found", "AWS_PROFILE", "--profile"
        ) from None
    if not os.environ.get("AWS_BEARER_TOKEN_BEDROCK") and session.get_credentials() is None:
        raise CredentialsError(
            "bedrock: no AWS credentials", "AWS_PROFILE or AWS_ACCESS_KEY_ID", "--profile"
        )
    if session.region_name is None:
        raise CredentialsError("bedrock: no AWS region", "AWS_REGION", "--region")
    return session


def off_loop(work: Callable[[], T]) -> asyncio.Future[T]:
    """Run blocking `work` on a daemon thread; the future settles on the running loop.

    Not `asyncio.to_thread`: its executor is joined when the loop closes, so a turn
    cancelled (Ctrl-C) during a stalled read would hang until the read timed out.
    """
    loop = asyncio.get_running_loop()
    future: asyncio.Future[T] = loop.create_future()

    def run() -> None:
        try:
            outcome = partial(future.set_result, work())
        except BaseException as exc:
            outcome = partial(future.set_exception, exc)
        with suppress(RuntimeError):  # the loop has closed: nobody waits for the result
            loop.call_soon_threadsafe(_settle, future, outcome)

    threading.Thread(target=run, name="dcaf-bedrock", daemon=True).start()
    return future


def _settle(future: asyncio.Future[Any], outcome: Callable[[], None]) -> None:
    if not future.done():  # not cancelled meanwhile
        outcome()


class BedrockModel:
    def __init__(self, name: str, model_id: str, options: ModelOptions) -> None:
        self.name = name
        self.model_id = model_id
        self.options = options
        self.max_retries = settings.max_retries()
        self.timeout = settings.timeout()
        self._session: boto3.Session | None = None
        self._lock = threading.Lock()  # boto3 sessions must not build clients concurrently

    async def complete(self, request: ModelRequest, on_text: TextSink | None = None) -> ModelReply:
        try:
            call = converse_args(self.model_id, request, self.options)
            return await self._complete(call, on_text)
        except (boto_errors.ClientError, boto_errors.BotoCoreError) as exc:
            raise ModelError(self._explain(exc)) from exc
        except (StreamReadError, ParserError) as exc:  # botocore lets these escape a stream
            raise ModelError(bedrock_errors.broken_stream(exc)) from exc

    async def _complete(self, call: Json, on_text: TextSink | None) -> ModelReply:
        if on_text is None:
            return await off_loop(lambda: self._converse(call))
        try:
            return await self._stream(call, on_text)
        except boto_errors.ClientError as exc:
            if not bedrock_errors.streaming_unsupported(exc):
                raise
        # Some models take tools only without streaming: ask again, plainly.
        reply = await off_loop(lambda: self._converse(call))
        if reply.text:
            on_text(reply.text)
        return reply

    async def _stream(self, call: Json, on_text: TextSink) -> ModelReply:
        """ConverseStream off the loop; its text deltas come back through a queue."""
        loop = asyncio.get_running_loop()
        deltas: asyncio.Queue[str | None] = asyncio.Queue()
        stop = threading.Event()

        def put(text: str | None) -> None:
            if not stop.is_set():
                loop.call_soon_threadsafe(deltas.put_nowait, text)

        worker = off_loop(lambda: self._converse_stream(call, put, stop))
        # Runs after every delta the thread queued before it finished, so None marks the end.
        worker.add_done_callback(lambda _: deltas.put_nowait(None))
        try:
            while (text := await deltas.get()) is not None:
                on_text(text)
            return await worker
        finally:
            stop.set()  # if we were cancelled, the thread stops at the next event
            worker.cancel()

    def _converse_stream(self, call: Json, put: Put, stop: threading.Event) -> ModelReply:
        builder = StreamReply(put)
        with closing(self._client()) as client:
            stream = client.converse_stream(**call)["stream"]
            with closing(stream):
                for event in stream:
                    if stop.is_set():
                        break
                    builder.add(event)
        if builder.stop_reason is None and not stop.is_set():  # no `messageStop`: cut short
            raise ModelError(f"bedrock: {CUT_SHORT}", hint="try the turn again")
        return builder.build()

    def _converse(self, call: Json) -> ModelReply:
        with closing(self._client()) as client:
            response: Json = client.converse(**call)
        return reply_from_converse(response)

    def _client(self) -> Any:
        # A client per call, closed after it, so no pooled socket outlives the turn.
        with self._lock:
            if self._session is None:
                region = self.options.region or os.environ.get("AWS_REGION") or None
                self._session = boto3.Session(profile_name=self.options.profile, region_name=region)
            config = Config(
                retries={"total_max_attempts": self.max_retries + 1, "mode": "standard"},
                connect_timeout=min(self.timeout, 10.0),
                read_timeout=self.timeout,
            )
            endpoint = self.options.base_url or settings.bedrock_endpoint()
            return self._session.client("bedrock-runtime", endpoint_url=endpoint, config=config)

    def _explain(self, exc: Exception) -> str:
        region = (self._session.region_name if self._session else None) or self.options.region
        return bedrock_errors.explain(exc, self.model_id, region, self.options.profile)
