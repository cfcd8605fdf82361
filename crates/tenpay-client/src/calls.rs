//! `Client` extended, in one place: one method per endpoint, each a call through the
//! endpoint's [`Route`](crate::Route) ([`Client::execute`], or [`Client::execute_money`] for
//! the calls that move money). The family modules describe requests and answers; the calls
//! that take several round trips are in [`flows`](crate::flows).

use tenpay_xml::XmlMap;

use crate::outcome::{Sent, judge, read_common};
use crate::papay::PreEntrustWeb;
use crate::*;

impl Client {
    /// `/pay/unifiedorder`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn unified_order(
        &self,
        request: &UnifiedOrder,
    ) -> Result<UnifiedOrderResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/orderquery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn order_query(&self, request: &OrderQuery) -> Result<OrderQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/closeorder`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn close_order(&self, request: &CloseOrder) -> Result<CloseOrderResponse, Error> {
        self.execute(request).await
    }

    /// `/secapi/pay/refund` (needs the client certificate). Moves money: the outcome is
    /// judged over every attempt ([`Outcome`]); an open one is [`Outcome::Unknown`], to settle
    /// with [`Client::refund_query`] or by repeating the same `out_refund_no`.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was refunded for certain: nothing sent (no certificate,
    /// no connection), or a final refusal (`NOTENOUGH`, `ORDERNOTEXIST`, …) of the only
    /// attempt that reached WeChat Pay.
    pub async fn refund(&self, request: &Refund) -> Result<Outcome<RefundResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/pay/refundquery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn refund_query(&self, request: &RefundQuery) -> Result<RefundQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/downloadbill`, into memory: the call for small bills. The [`Bill`] holds the
    /// text and every parsed row, about 10 × the bill's size, and the bill is capped at
    /// [`ClientBuilder::max_bill_bytes`] (default 64 MiB, [`Error::TooLarge`] beyond). For a
    /// bill of any size in bounded memory, stream it with [`Client::download_bill_to`] and
    /// read it back row by row with [`BillReader`].
    ///
    /// # Errors
    /// See [`Error`]; "no bill" is [`BillOutcome::NoBill`], not an error.
    pub async fn download_bill(&self, request: &DownloadBill) -> Result<BillOutcome, Error> {
        self.execute(request).await
    }

    /// `/pay/downloadfundflow` (needs the client certificate; always signed with HMAC-SHA256).
    ///
    /// # Errors
    /// See [`Error`]; "no bill" is [`BillOutcome::NoBill`], not an error. [`Error::Config`]
    /// with the sandbox, which takes MD5 only.
    pub async fn download_fund_flow(
        &self,
        request: &DownloadFundFlow,
    ) -> Result<BillOutcome<FundFlow>, Error> {
        self.execute(request).await
    }

    /// `/deposit/micropay`: freeze a deposit with a payment code. Moves money, as
    /// [`Client::micropay`] does.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was frozen for certain.
    pub async fn deposit_micropay(
        &self,
        request: &DepositMicropay,
    ) -> Result<Outcome<MicropayResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/deposit/unifiedorder`: a deposit order paid in the app.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn deposit_unified_order(
        &self,
        request: &DepositUnifiedOrder,
    ) -> Result<UnifiedOrderResponse, Error> {
        self.execute(request).await
    }

    /// `/deposit/facepay`: freeze a deposit with a face code. Moves money.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was frozen for certain.
    pub async fn deposit_face_pay(
        &self,
        request: &DepositFacePay,
    ) -> Result<Outcome<MicropayResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/deposit/orderquery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn deposit_order_query(
        &self,
        request: &DepositOrderQuery,
    ) -> Result<OrderQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/deposit/reverse` (certificate): cancel a deposit not consumed yet.
    ///
    /// # Errors
    /// [`Refused`] only when nothing moved for certain.
    pub async fn deposit_reverse(
        &self,
        request: &DepositReverse,
    ) -> Result<Outcome<ReverseResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/deposit/consume` (certificate): settle part of a deposit, the rest back to the
    /// payer. An open outcome is settled by [`Client::deposit_order_query`]'s `consume_fee`.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was consumed for certain.
    pub async fn deposit_consume(
        &self,
        request: &DepositConsume,
    ) -> Result<Outcome<DepositConsumed>, Refused> {
        self.execute_money(request).await
    }

    /// `/deposit/refund` (certificate): refund part of what was consumed.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was refunded for certain.
    pub async fn deposit_refund(
        &self,
        request: &DepositRefund,
    ) -> Result<Outcome<RefundResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/deposit/refundquery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn deposit_refund_query(
        &self,
        request: &DepositRefundQuery,
    ) -> Result<RefundQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/face/get_wxpayface_authinfo`: the face SDK's credential (see [`FaceAuthInfo`]).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn face_auth_info(&self, request: &FaceAuthInfo) -> Result<FaceAuth, Error> {
        self.execute(request).await
    }

    /// `/pay/facepay`: charge a face code. Moves money, as [`Client::micropay`] does.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was charged for certain.
    pub async fn face_pay(&self, request: &FacePay) -> Result<Outcome<MicropayResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/pay/facepayquery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn face_pay_query(
        &self,
        request: &FacePayQuery,
    ) -> Result<OrderQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/secapi/pay/facepayreverse` (certificate).
    ///
    /// # Errors
    /// [`Refused`] only when nothing moved for certain.
    pub async fn face_pay_reverse(
        &self,
        request: &FacePayReverse,
    ) -> Result<Outcome<ReverseResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/pay/queryexchagerate`: a currency's rate to CNY on a day (see
    /// [`ExchangeRateQuery`]).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn exchange_rate(&self, request: &ExchangeRateQuery) -> Result<ExchangeRate, Error> {
        self.execute(request).await
    }

    /// `/cgi-bin/mch/customs/customdeclareorder`: declare a paid order to customs.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn customs_declare(
        &self,
        request: &CustomsDeclare,
    ) -> Result<CustomsDeclared, Error> {
        self.execute(request).await
    }

    /// `/cgi-bin/mch/customs/customdeclarequery`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn customs_query(
        &self,
        request: &CustomsQuery,
    ) -> Result<CustomsDeclarations, Error> {
        self.execute(request).await
    }

    /// `/cgi-bin/mch/newcustoms/customdeclareredeclare`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn customs_redeclare(
        &self,
        request: &CustomsRedeclare,
    ) -> Result<CustomsDeclared, Error> {
        self.execute(request).await
    }

    /// `/mmpaymkttransfers/sendworkwxredpack` (certificate; the merchant's WeCom secret signs
    /// `workwx_sign`). Moves money: judged as a cash packet's send.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was sent for certain.
    pub async fn send_wecom_redpack(
        &self,
        request: &WeComRedpack,
    ) -> Result<Outcome<RedpackSent>, Refused> {
        self.execute_money(request).await
    }

    /// `/mmpaymkttransfers/queryworkwxredpack` (certificate).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn wecom_redpack_query(
        &self,
        request: &WeComRedpackQuery,
    ) -> Result<WeComRedpackInfo, Error> {
        self.execute(request).await
    }

    /// `/secapi/pay/refundv2` (certificate): a refund naming the goods (single-item
    /// discounts). Moves money, as [`Client::refund`] does.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was refunded for certain.
    pub async fn refund_v2(&self, request: &RefundV2) -> Result<Outcome<RefundResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/pay/refundqueryv2`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn refund_query_v2(
        &self,
        request: &RefundQueryV2,
    ) -> Result<RefundQueryResponse, Error> {
        self.execute(request).await
    }

    /// `/payitil/report`: report how a call went (fire and forget).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn report(&self, request: &Report) -> Result<Reported, Error> {
        self.execute(request).await
    }

    /// `/billcommentsp/batchquerycomment` (certificate): a page of the payers' comments.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn comments(&self, request: &CommentQuery) -> Result<Comments, Error> {
        self.execute(request).await
    }

    /// `/secapi/mch/addsubdevconfig` (certificate): a sub-merchant's JSAPI directory or
    /// bound appid.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn add_sub_dev_config(
        &self,
        request: &SubDevConfig,
    ) -> Result<SubDevConfigured, Error> {
        self.execute(request).await
    }

    /// `/secapi/mch/querysubdevconfig` (certificate).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn sub_dev_config(
        &self,
        request: &SubDevConfigQuery,
    ) -> Result<SubDevConfiguration, Error> {
        self.execute(request).await
    }

    /// `/secapi/mch/submchmanage?action=add` (certificate; bank service providers): a new
    /// sub-merchant.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn add_sub_merchant(
        &self,
        request: &SubMerchantAdd,
    ) -> Result<SubMerchantAdded, Error> {
        self.execute(request).await
    }

    /// `/secapi/mch/submchmanage?action=query` (certificate): sub-merchants by id or name.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn sub_merchants(&self, request: &SubMerchantQuery) -> Result<SubMerchants, Error> {
        self.execute(request).await
    }

    /// `/secapi/mch/modifymchinfo` (certificate): a sub-merchant's short name or phone.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn modify_sub_merchant(
        &self,
        request: &SubMerchantModify,
    ) -> Result<SubMerchantModified, Error> {
        self.execute(request).await
    }

    /// `/tools/shorturl`: a short link for a long one (see [`ShortUrl`]).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn short_url(&self, request: &ShortUrl) -> Result<ShortUrlResponse, Error> {
        self.execute(request).await
    }

    /// `/tools/authcodetoopenid`.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn auth_code_to_openid(
        &self,
        request: &AuthCodeToOpenid,
    ) -> Result<AuthCodeToOpenidResponse, Error> {
        self.execute(request).await
    }

    /// `/pay/micropay` (one call; see [`Client::pay_with_code`] for the full flow). Moves
    /// money: an open outcome (`USERPAYING`, `SYSTEMERROR`, a lost answer, …) is
    /// [`Outcome::Unknown`].
    ///
    /// # Errors
    /// [`Refused`] only when nothing was charged for certain.
    pub async fn micropay(&self, request: &Micropay) -> Result<Outcome<MicropayResponse>, Refused> {
        self.execute_money(request).await
    }

    /// `/secapi/pay/reverse` (needs the client certificate): cancels a payment-code order,
    /// refunding it if it was paid.
    ///
    /// # Errors
    /// [`Refused`] only when the reversal moved nothing for certain (nothing sent,
    /// `REVERSE_EXPIRE`, a configuration code).
    pub async fn reverse(&self, request: &Reverse) -> Result<Outcome<ReverseResponse>, Refused> {
        self.execute_money(request).await
    }

    /// The APP pre-sign call (`papay/preentrustweb`): MD5, no nonce.
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn pre_entrust(&self, s: &ContractSigning) -> Result<PreEntrust, Error> {
        self.execute(&PreEntrustWeb {
            signing: s,
            timestamp: (self.inner.clock)(),
        })
        .await
    }

    /// Pays and signs in one order (`pay/contractorder`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn contract_order(
        &self,
        request: &ContractOrder,
    ) -> Result<ContractOrderResponse, Error> {
        self.execute(request).await
    }

    /// A contract (`papay/querycontract`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn query_contract(&self, r: &QueryContract) -> Result<Contract, Error> {
        self.execute(r).await
    }

    /// Terminates a contract (`papay/deletecontract`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn delete_contract(&self, r: &DeleteContract) -> Result<DeletedContract, Error> {
        self.execute(r).await
    }

    /// Asks for a deduction under a contract (`pay/pappayapply`): accepted, not paid; the
    /// result comes by notification or [`Client::pap_order_query`]. Moves money: an open
    /// outcome is [`Outcome::Unknown`], never an error.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was asked for certain (nothing sent, or a configuration
    /// code on the only attempt that reached WeChat Pay).
    pub async fn pap_pay_apply(&self, r: &PapPayApply) -> Result<Outcome<PapPayAccepted>, Refused> {
        self.execute_money(r).await
    }

    /// A deduction's record (`pay/paporderquery`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn pap_order_query(&self, r: &PapOrderQuery) -> Result<PapOrder, Error> {
        self.execute(r).await
    }

    /// A bank payment's record (`query_bank`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn bank_query(&self, request: &BankQuery) -> Result<BankPaymentInfo, Error> {
        self.require_identity("/mmpaysptrans/query_bank")?;
        self.execute(request).await
    }

    /// Sends a red packet. An open outcome is [`Outcome::Unknown`] (or
    /// [`Outcome::NumberTaken`]), never an error.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was sent for certain: no certificate, a bad argument, no
    /// connection, or a final refusal of the only attempt that reached WeChat Pay
    /// (`NOTENOUGH`, `SENDNUM_LIMIT`, …; `SEND_FAILED` means this number failed for good).
    pub async fn send_redpack(
        &self,
        request: &SendRedpack,
    ) -> Result<Outcome<RedpackSent>, Refused> {
        self.require_identity(SendRedpack::ROUTE.path())
            .map_err(Refused::not_sent)?;
        self.execute_money(request).await
    }

    /// Sends a mini-program red packet; see [`Client::send_redpack`].
    ///
    /// # Errors
    /// As [`Client::send_redpack`].
    pub async fn send_miniprogram_redpack(
        &self,
        request: &MiniProgramRedpack,
    ) -> Result<Outcome<RedpackSent>, Refused> {
        self.require_identity(MiniProgramRedpack::ROUTE.path())
            .map_err(Refused::not_sent)?;
        self.execute_money(request).await
    }

    /// A packet's record (`gethbinfo`), with its receivers.
    ///
    /// # Errors
    /// See [`Error`]; `NOT_FOUND` as [`Error::Business`].
    pub async fn redpack_query(&self, request: &RedpackQuery) -> Result<RedpackInfo, Error> {
        self.require_identity(RedpackQuery::ROUTE.path())?;
        self.execute(request).await
    }

    /// Pays a transfer to a user's balance. See the [outcome rules](crate::Outcome): an
    /// open outcome is [`Outcome::Unknown`] (or [`Outcome::NumberTaken`]), never an error.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was paid for certain: no certificate, a bad argument, no
    /// connection, or a final refusal of the only attempt that reached WeChat Pay
    /// (`NOTENOUGH`, `NAME_MISMATCH`, …; the number may be used again for the same transfer).
    pub async fn transfer(&self, request: &Transfer) -> Result<Outcome<Transferred>, Refused> {
        self.require_identity("/mmpaymkttransfers/promotion/transfers")
            .map_err(Refused::not_sent)?;
        self.execute_money(request).await
    }

    /// A transfer's record (`gettransferinfo`).
    ///
    /// # Errors
    /// See [`Error`]; `NOT_FOUND` as [`Error::Business`].
    pub async fn transfer_query(&self, request: &TransferQuery) -> Result<TransferInfo, Error> {
        self.require_identity("/mmpaymkttransfers/gettransferinfo")?;
        self.execute(request).await
    }

    /// Adds a receiver (`profitsharingaddreceiver`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn add_sharing_receiver(&self, r: &AddReceiver) -> Result<ReceiverChanged, Error> {
        self.execute(r).await
    }

    /// Removes a receiver (`profitsharingremovereceiver`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn remove_sharing_receiver(
        &self,
        r: &RemoveReceiver,
    ) -> Result<ReceiverChanged, Error> {
        self.execute(r).await
    }

    /// The one split of a payment (`profitsharing`); accepted, the result comes with the
    /// query. A repeat under the same `out_order_no` is the same split.
    ///
    /// Moves money: an open outcome is [`Outcome::Unknown`] (query the split by its
    /// `out_order_no`), never an error.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was split for certain: `NOT_SHARE_ORDER` (the payment
    /// was not placed with `profit_sharing=Y`), `ORDER_NOT_READY` (too early: repeat later
    /// with the same number), a configuration code, or nothing sent.
    pub async fn profit_sharing(
        &self,
        r: &ProfitSharing,
    ) -> Result<Outcome<SharingAccepted>, Refused> {
        self.execute_money(r).await
    }

    /// One of several splits (`multiprofitsharing`).
    ///
    /// # Errors
    /// As [`Client::profit_sharing`].
    pub async fn multi_profit_sharing(
        &self,
        r: &MultiProfitSharing,
    ) -> Result<Outcome<SharingAccepted>, Refused> {
        self.execute_money(r).await
    }

    /// A split's or finish's record, with each share's result (`profitsharingquery`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn sharing_query(&self, r: &SharingQuery) -> Result<SharingOrder, Error> {
        self.execute(r).await
    }

    /// Ends a payment's splits, releasing the rest to the merchant (`profitsharingfinish`).
    ///
    /// # Errors
    /// As [`Client::profit_sharing`].
    pub async fn finish_sharing(
        &self,
        r: &FinishSharing,
    ) -> Result<Outcome<SharingAccepted>, Refused> {
        self.execute_money(r).await
    }

    /// A merchant receiver returns part of its share (`profitsharingreturn`).
    ///
    /// Moves money: an open outcome is [`Outcome::Unknown`] (query the return by its
    /// `out_return_no`), never an error.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was returned for certain; failures arrive as
    /// `error_code` and are read as [`Error::Business`].
    pub async fn sharing_return(
        &self,
        r: &SharingReturn,
    ) -> Result<Outcome<SharingReturned>, Refused> {
        self.execute_money(r).await
    }

    /// A return's record (`profitsharingreturnquery`).
    ///
    /// # Errors
    /// As [`Client::sharing_return`].
    pub async fn sharing_return_query(
        &self,
        r: &SharingReturnQuery,
    ) -> Result<SharingReturned, Error> {
        self.execute(r).await
    }

    /// What is left to split of a payment (`profitsharingorderamountquery`).
    ///
    /// # Errors
    /// See [`Error`].
    pub async fn unsplit_amount(&self, r: &UnsplitAmountQuery) -> Result<UnsplitAmount, Error> {
        self.execute(r).await
    }

    /// Calls any V2 path (see [`RawCall`]): signs, sends, checks the answer by the call's
    /// rules, and returns every field of it.
    ///
    /// # Errors
    /// See [`Error`]; [`Error::Request`] for a field XML cannot carry (nothing sent);
    /// [`ConfigError::MovesMoney`] for a call marked [`RawCall::moves_money`] (nothing sent:
    /// use [`Client::call_money`]).
    pub async fn call(&self, call: &RawCall) -> Result<XmlMap, Error> {
        if call.money.is_some() {
            return Err(Error::Config(ConfigError::MovesMoney {
                path: call.path.clone(),
            }));
        }
        self.send_raw(call).await.result
    }

    /// Calls a V2 path that moves money ([`RawCall::moves_money`]) and judges its outcome
    /// over every attempt, as [`Client::execute_money`] does.
    ///
    /// # Errors
    /// [`Refused`] only when nothing was moved for certain; a call not marked as moving money
    /// is refused unsent.
    pub async fn call_money(&self, call: &RawCall) -> Result<Outcome<XmlMap>, Refused> {
        let Some(money) = &call.money else {
            return Err(Refused::not_sent(Error::Config(ConfigError::MovesMoney {
                path: call.path.clone(),
            })));
        };
        let number = call.fields.get(&money.number_field).unwrap_or("");
        let own: Vec<&str> = money.final_codes.iter().map(String::as_str).collect();
        let sent = self.send_raw(call).await;
        judge(number, sent, |code| read_common(code, &own))
    }

    async fn send_raw(&self, call: &RawCall) -> Sent<XmlMap> {
        if let Some(e) = &call.error {
            return Sent::unsent(Error::Request(e.clone()));
        }
        let route = call.route();
        let signed = route.signed_answer;
        self.send(&route, call.fields.clone(), |verifier, key, answer| {
            if signed {
                verifier.verify(key, &answer)
            } else {
                verifier.check_unsigned(&answer)
            }
        })
        .await
    }
}
