"""The carbon ledger of verified emissions and the allowance account (CEA, CCER) of each
entity: hash-chained postings, holdings, compliance (issue 7)."""
