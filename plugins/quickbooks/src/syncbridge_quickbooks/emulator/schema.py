"""The properties each emulated object accepts, taken from Intuit's XSDs.

Generated from ``IntuitBaseTypes.xsd``, ``IntuitNamesTypes.xsd``, ``Finance.xsd`` and
``SalesTax.xsd`` (intuit/QuickBooks-V3-Java-SDK, commit 79b5a3c1): every element and attribute
of the object's type and of the types it extends (``IntuitEntity``, ``NameBase``,
``Transaction``, ``SalesTransaction``). The real service refuses a property its schema does
not have (code 2010), so the emulator refuses it too: a connector that sends a private key by
mistake fails here rather than in production.
"""

from __future__ import annotations


def _names(text: str) -> frozenset[str]:
    return frozenset(text.split())


PROPERTIES: dict[str, frozenset[str]] = {
    "Customer": _names(
        "AcctNum Active AltContactName AlternatePhone ARAccountRef AttachableRef Balance "
        "BalanceWithJobs BillAddr BillWithParent BusinessNumber CCDetail ClientCompanyId "
        "ClientEntityId CompanyName ContactName CreditLimit CurrencyRef CustomerEx "
        "CustomerTypeRef CustomField DefaultTaxCodeRef DisplayName domain FamilyName Fax "
        "FullyQualifiedName GivenName GSTIN GSTRegistrationType Id IntuitId IsCISContractor "
        "IsProject Job JobInfo Level MetaData MiddleName Mobile Notes OpenBalanceDate "
        "Organization OtherAddr OtherContactInfo OverDueBalance ParentRef PaymentMethodRef "
        "PreferredDeliveryMethod PriceLevelRef PrimaryEmailAddr PrimaryPhone PrimaryTaxIdentifier "
        "PrintOnCheckName ResaleNum RootCustomerRef SalesRepRef SalesTermRef "
        "SecondaryTaxIdentifier ShipAddr Source sparse status Suffix SyncToken Taxable "
        "TaxExemptionReasonId TaxGroupCodeRef TaxRateRef TaxRegime TDSEnabled Title TotalExpense "
        "TotalRevenue UserId V4IDPseudonym WebAddr "
    ),
    "Item": _names(
        "AbatementRate Active AssetAccountRef AttachableRef AvgCost BuildPoint ClassRef "
        "COGSAccountRef CustomField DeferredRevenue DepositToAccountRef Description domain "
        "ExpenseAccountRef FullyQualifiedName Id IncomeAccountRef InvStartDate ItemAssemblyDetail "
        "ItemCategoryType ItemEx ItemGroupDetail Level ManPartNum MetaData Name ParentRef "
        "PaymentMethodRef PercentBased PrefVendorRef PrintGroupedItems PurchaseCost PurchaseDesc "
        "PurchaseTaxCodeRef PurchaseTaxIncluded QtyOnHand QtyOnPurchaseOrder QtyOnSalesOrder "
        "RatePercent ReorderPoint ReverseChargeRate SalesTaxCodeRef SalesTaxIncluded ServiceType "
        "Sku Source sparse SpecialItem SpecialItemType status SubItem SyncToken Taxable "
        "TaxClassificationRef TrackQtyOnHand Type UnitPrice UOMSetRef UQCDisplayText UQCId "
    ),
    "Invoice": _names(
        "AllowIPNPayment AllowOnlineACHPayment AllowOnlineCreditCardPayment AllowOnlinePayment "
        "AllowOnlinePayPalPayment ApplyTaxAfterDiscount ARAccountRef AttachableRef AutoDocNumber "
        "AutoPayEligible Balance BillAddr BillEmail BillEmailBcc BillEmailCc callToAction CfdiUse "
        "CheckPayment ClassRef ConvenienceFeeDetail CreditCardPayment CurrencyRef CustomerMemo "
        "CustomerRef CustomField DeliveryInfo DepartmentRef Deposit DepositToAccountRef "
        "DiscountAmt DiscountRate DocNumber domain DueDate ECloudStatusTimeStamp EInvoiceStatus "
        "EmailStatus ExchangeRate Exportation FinanceCharge FinancingProductType FOB "
        "FreeFormAddress GlobalInfo GlobalTaxCalculation GovtTxnRefIdentifier GratuityEnabled "
        "HomeBalance HomeTotalAmt HomeTotalCostAmount Id InvoiceEx InvoiceLink "
        "InvoiceLinkExpiryDate InvoiceLinkSecurityCode invoiceStatus invoiceStatusLog LessCIS "
        "Line LinkedTxn MetaData PaymentDetailsMessage PaymentMethodRef PaymentRefNum PaymentType "
        "PONumber PrintStatus PrivateNote ProjectRef RecurDataRef RecurringInfo RemitToRef "
        "SalesRepRef SalesTermRef ScheduledPaymentId SchedulePayEligible ShipAddr ShipDate "
        "ShipFromAddr ShipMethodRef ShippingTaxIncludedInTotalTax sparse status "
        "SubscriptionPaymentsSetting SyncToken Tag TaxExemptionRef TaxFormNum TaxFormType "
        "TemplateRef TotalAmt TotalCostAmount TrackingNum TransactionLocationType TxnApprovalInfo "
        "TxnDate TxnSource TxnStatus TxnTaxDetail "
    ),
    "Estimate": _names(
        "AcceptedBy AcceptedDate ApplyTaxAfterDiscount ARAccountRef AttachableRef AutoDocNumber "
        "Balance BillAddr BillEmail BillEmailBcc BillEmailCc CheckPayment ClassRef "
        "CreditCardPayment CurrencyRef CustomerMemo CustomerRef CustomField DeliveryInfo "
        "DepartmentRef DepositToAccountRef DiscountAmt DiscountRate DocNumber domain DueDate "
        "EmailStatus EstimateEx ExchangeRate ExpirationDate FinanceCharge FOB FreeFormAddress "
        "GlobalTaxCalculation GovtTxnRefIdentifier HomeBalance HomeTotalAmt HomeTotalCostAmount "
        "Id Line LinkedTxn MetaData PaymentMethodRef PaymentRefNum PaymentType PONumber "
        "PrintStatus PrivateNote ProjectRef RecurDataRef RecurringInfo RemitToRef SalesRepRef "
        "SalesTermRef ShipAddr ShipDate ShipFromAddr ShipMethodRef ShippingTaxIncludedInTotalTax "
        "sparse status SyncToken Tag TaxExemptionRef TaxFormNum TaxFormType TemplateRef TotalAmt "
        "TotalCostAmount TrackingNum TransactionLocationType TxnApprovalInfo TxnDate TxnSource "
        "TxnStatus TxnTaxDetail "
    ),
    "Payment": _names(
        "ARAccountRef AttachableRef CheckPayment CreditCardPayment CurrencyRef CustomerRef "
        "CustomField DepartmentRef DepositToAccountRef DocNumber domain ExchangeRate "
        "HomeTotalCostAmount Id Line LinkedTxn MetaData PaymentEx PaymentMethodRef PaymentRefNum "
        "PaymentType PrivateNote ProcessPayment ProjectRef RecurDataRef RecurringInfo RemitToRef "
        "sparse status SyncToken Tag TaxFormNum TaxFormType TotalAmt TotalCostAmount "
        "TransactionLocationType TxnApprovalInfo TxnDate TxnSource TxnStatus TxnTaxDetail "
        "UnappliedAmt "
    ),
    "PaymentMethod": _names(
        "Active AttachableRef CustomField domain Id MetaData Name PaymentMethodEx sparse status "
        "SyncToken Type "
    ),
    "CompanyCurrency": _names(
        "Active AttachableRef Code CompanyCurrencyEx CustomField domain Id MetaData Name sparse "
        "status SyncToken "
    ),
    "TaxCode": _names(
        "Active AdjustmentTaxRateList AttachableRef CustomField Description domain Hidden Id "
        "MetaData Name PurchaseTaxRateList SalesTaxRateList sparse status SyncToken Taxable "
        "TaxCodeConfigType TaxCodeEx TaxGroup "
    ),
    "TaxRate": _names(
        "Active AgencyRef AttachableRef CustomField Description DisplayType domain "
        "EffectiveTaxRate Id MetaData Name OriginalTaxRate RateValue sparse SpecialTaxType status "
        "SyncToken TaxRateEx TaxReturnLineRef "
    ),
    "Account": _names(
        "AccountAlias AccountEx AccountPurposes AccountSubType AccountType AcctNum AcctNumExtn "
        "Active AttachableRef BankNum Classification CurrencyRef CurrentBalance "
        "CurrentBalanceWithSubAccounts CustomField Description domain FIName FullyQualifiedName "
        "Id JournalCodeRef MetaData Name OnlineBankingEnabled OpeningBalance OpeningBalanceDate "
        "ParentRef sparse status SubAccount SyncToken TaxAccount TaxCodeRef TxnLocationType "
    ),
}
