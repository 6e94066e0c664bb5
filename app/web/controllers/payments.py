"""Payments: the portal's API and the simulated gateway's own pages under /pay."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, Response, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath
from litestar.response import Template

from app.services.errors import ServiceError
from app.services.payments import PaymentService, sign
from app.web.auth import authenticated
from app.web.controllers.account import Form, client_ip
from app.web.controllers.public import page_context


class PaymentApiController(Controller):
    path = "/api/v1"
    tags = ["Thanh toán"]

    @post(
        "/dossiers/{code:str}/payments", guards=[authenticated], summary="Tạo giao dịch thanh toán trực tuyến"
    )
    async def create(
        self, request: Request, code: FromPath[str], payments: NamedDependency[PaymentService]
    ) -> Response[dict[str, Any]]:
        payment = await payments.create(code, request.scope["user"], client_ip(request))
        return Response(payment, status_code=201, headers={"Location": payment["next_url"]})

    @get("/payments/{reference:str}", guards=[authenticated], summary="Trạng thái, biên lai giao dịch")
    async def status(
        self, reference: FromPath[str], payments: NamedDependency[PaymentService]
    ) -> dict[str, Any]:
        return await payments.get(reference)

    @post(
        "/payments/callback", status_code=200, summary="Thông báo kết quả từ cổng thanh toán (ký HMAC-SHA256)"
    )
    async def callback(self, request: Request, payments: NamedDependency[PaymentService]) -> dict[str, Any]:
        body = await request.body()
        return await payments.handle_callback(body, request.headers.get("x-signature", ""))


class GatewayController(Controller):
    """The simulated payment gateway (stands for the national payment platform)."""

    path = "/pay"
    include_in_schema = False

    @get("/{reference:str}")
    async def page(
        self, request: Request, reference: FromPath[str], payments: NamedDependency[PaymentService]
    ) -> Template:
        payment = await payments.get(reference)
        return Template("pay/page.html", context=page_context(request, payment=payment))

    @post("/{reference:str}")
    async def confirm(
        self,
        request: Request,
        reference: FromPath[str],
        data: Form,
        payments: NamedDependency[PaymentService],
    ) -> Template:
        payment = await payments.get(reference)
        outcome = data.get("outcome", "")
        error = None
        if outcome in ("succeeded", "failed", "cancelled") and payment["state"] == "created":
            body = payments.callback_body(reference, outcome, payment["amount"])
            try:  # the gateway notifies the portal exactly as its callback would
                payment = await payments.handle_callback(body, sign(payments.secret, body))
            except ServiceError as exc:
                error = exc.detail
        elif payment["state"] != "created":
            error = "Giao dịch đã kết thúc."
        return Template("pay/result.html", context=page_context(request, payment=payment, error=error))
