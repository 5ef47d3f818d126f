"""use cases over the Book: defaults declared once, shared by CLI, web and report"""
