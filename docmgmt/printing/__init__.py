"""Paper and Word: .docx import and export, ReportLab PDFs, controlled copies and their register."""
