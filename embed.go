// Package reconciled holds the files of the repository that the binary
// carries with it: the sample merchant records of `reconciled demo`.
package reconciled

import _ "embed"

// DemoRecords is testdata/demo-records.csv: the merchant's books for the
// demo's fake Data API (seed 1, 5,000 operations), as a Russian accounting
// system exports them: Windows-1251, ';', decimal commas, Russian column
// names and words (mapped in the demo's config). It holds at least one
// case of every result code; cmd/reconciled's TestDemoRecords writes it
// (-update) and checks that it is current.
//
//go:embed testdata/demo-records.csv
var DemoRecords []byte

// Column names and words of DemoRecords, for the demo's [records] config.
var (
	DemoColumns = map[string]string{
		"payment_id": "Номер платежа", "type": "Вид", "amount": "Сумма", "currency": "Валюта", "status": "Статус",
		"created_at": "Дата", "provider_payment_id": "ID провайдера", "operation_id": "ID операции",
		"project_id": "Проект", "customer_id": "Клиент", "method": "Метод",
	}
	DemoStatuses = map[string]string{"оплачен": "paid", "ошибка": "failed", "в обработке": "pending", "возвращён": "refunded"}
	DemoTypes    = map[string]string{"оплата": "purchase", "выплата": "payout", "возврат": "refund"}
)
