"""SemantiBench metrics, summary.json merge and the HTML report."""
